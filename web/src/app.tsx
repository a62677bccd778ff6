// The shell: skip link, header with navigation and language switch, and the page for the route.
import type { ComponentType } from "preact";
import { href, route } from "./route";
import { session, endSession } from "./session";
import { useSignal } from "./signal";
import { lang, setLang, t, type MessageKey } from "./i18n";
import { SignInPage, SignUpPage } from "./pages/auth";
import { DashboardPage } from "./pages/dashboard";
import { BuyPage } from "./pages/buy";
import { PurchasePage } from "./pages/purchase";
import { ReceiptPage } from "./pages/receipt";
import { TopUpPage } from "./pages/topup";
import { HistoryPage } from "./pages/history";
import { AddMeterPage } from "./pages/add-meter";
import { ProfilePage } from "./pages/profile";
import { navigate } from "./route";

type Page = ComponentType<{ id?: string; params: URLSearchParams }>;

const PAGES: Record<string, Page> = {
  "/": DashboardPage,
  "/buy": BuyPage,
  "/topup": TopUpPage,
  "/history": HistoryPage,
  "/meters/add": AddMeterPage,
  "/profile": ProfilePage,
};
const PUBLIC: Record<string, Page> = { "/signin": SignInPage, "/signup": SignUpPage };
const NAV: [string, MessageKey][] = [
  ["/", "navDashboard"],
  ["/buy", "navBuy"],
  ["/topup", "navTopUp"],
  ["/history", "navHistory"],
  ["/meters/add", "navMeters"],
  ["/profile", "navProfile"],
];

function resolve(path: string): { Page: Page; id?: string } | null {
  if (PAGES[path]) return { Page: PAGES[path] };
  const match = /^\/(purchase|receipt)\/([^/]+)$/.exec(path);
  if (match) return { Page: match[1] === "purchase" ? PurchasePage : ReceiptPage, id: decodeURIComponent(match[2]) };
  return null;
}

export function App() {
  const current = useSignal(route);
  const signedIn = useSignal(session) !== null;
  const language = useSignal(lang);
  const publicPage = PUBLIC[current.path];
  const resolved = signedIn ? resolve(current.path) : null;
  let body;
  if (publicPage && !signedIn) body = h(publicPage, current.params);
  else if (!signedIn) body = <SignInPage params={current.params} />;
  else if (publicPage) body = <DashboardPage />;
  else if (resolved) body = <resolved.Page id={resolved.id} params={current.params} />;
  else body = <p>{t("notFound")}</p>;

  const signOut = () => {
    endSession();
    navigate("/signin", { out: "1" });
  };
  // The key re-mounts the page (and its title focus) when the route or the language changes.
  const key = `${language}:${current.path}:${current.params.toString()}`;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        {t("skip")}
      </a>
      <header class="top no-print">
        <a class="brand" href={href("/")}>
          <span aria-hidden="true">⚡</span> {t("appName")}
        </a>
        <button type="button" class="link-button" lang={language === "id" ? "en" : "id"} onClick={() => setLang(language === "id" ? "en" : "id")}>
          {t("switchLanguage")}
        </button>
        {signedIn && (
          <button type="button" class="link-button" onClick={signOut}>
            {t("signOut")}
          </button>
        )}
      </header>
      {signedIn && (
        <nav class="nav no-print" aria-label={t("nav")}>
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={href(path)} aria-current={current.path === path ? "page" : undefined}>
                  {t(label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1} key={key}>
        {body}
      </main>
    </>
  );
}

function h(Page: Page, params: URLSearchParams) {
  return <Page params={params} />;
}
