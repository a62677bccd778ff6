// The dashboard: wallet, saved meters with this month's kWh against the cap, last purchases —
// all from the one Dashboard query (users + master + transactions through the router).
import { useQuery } from "@urql/preact";
import { DashboardQuery } from "../api/operations";
import { href } from "../route";
import { formatKwhNumber, formatRupiah, t } from "../i18n";
import { Alert, ErrorAlert, Loading, PageTitle } from "../ui/components";
import { PurchaseList } from "./history";

/** This month's kWh as a bar against the cap: an inline SVG with a text equivalent. */
export function UsageBar({ kwh, limit, label }: { kwh: string; limit: string | null | undefined; label: string }) {
  const used = Number(kwh);
  const cap = limit ? Number(limit) : 0;
  const share = cap > 0 ? Math.min(1, used / cap) : 0;
  const text = cap > 0
    ? t("usageOf", { used: formatKwhNumber(kwh), limit: formatKwhNumber(limit!) })
    : t("usageNoLimit", { used: formatKwhNumber(kwh) });
  const tone = share >= 0.9 ? "#b3261e" : share >= 0.7 ? "#8a5a00" : "#1b6e3c";
  return (
    <figure class="usage">
      <figcaption>
        {label}: {text}
      </figcaption>
      <svg viewBox="0 0 100 8" preserveAspectRatio="none" width="100%" height="14" aria-hidden="true" focusable="false">
        <rect x="0" y="0" width="100" height="8" rx="2" fill="#e4e7ec" />
        <rect x="0" y="0" width={Math.max(share * 100, used > 0 ? 1 : 0)} height="8" rx="2" fill={tone} />
      </svg>
    </figure>
  );
}

export function DashboardPage({ params }: { params?: URLSearchParams }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: DashboardQuery });
  const me = data?.me;
  return (
    <>
      <PageTitle>{me ? t("greeting", { name: me.name }) : t("dashboardTitle")}</PageTitle>
      {params?.get("saved") && <Alert kind="success">{t("meterSaved", { number: params.get("saved")! })}</Alert>}
      <ErrorAlert error={error} />
      {error && (
        <button type="button" onClick={() => refetch({ requestPolicy: "network-only" })}>
          {t("retry")}
        </button>
      )}
      {fetching && !me && <Loading />}
      {me && (
        <>
          <section class="card wallet" aria-labelledby="wallet-h">
            <h2 id="wallet-h">{t("walletBalance")}</h2>
            <p class="balance" data-testid="balance">{formatRupiah(me.wallet.balance)}</p>
            <div class="actions">
              <a class="button primary" href={href("/buy")}>{t("buyCta")}</a>
              <a class="button" href={href("/topup")}>{t("topUpCta")}</a>
            </div>
          </section>
          <section class="card" aria-labelledby="meters-h">
            <h2 id="meters-h">{t("savedMeters")}</h2>
            {me.meters.length === 0 && <p>{t("noMeters")}</p>}
            <ul class="meters">
              {me.meters.map(({ alias, meter }) => (
                <li key={meter.number} class="meter">
                  <h3>
                    {alias || meter.holderName}
                    {meter.status === "BLOCKED" && <span class="badge badge-bad">{t("blocked")}</span>}
                  </h3>
                  <dl class="facts">
                    <div><dt>{t("meterNumber")}</dt><dd>{meter.number}</dd></div>
                    <div><dt>{t("holder")}</dt><dd>{meter.holderName}</dd></div>
                    <div><dt>{t("tariffPower")}</dt><dd>{meter.tariff.code}/{meter.powerVa.toLocaleString("id-ID")} VA</dd></div>
                    <div><dt>{t("region")}</dt><dd>{meter.region.name}</dd></div>
                  </dl>
                  <UsageBar kwh={meter.monthlyUsage.kwh} limit={meter.monthlyUsage.limitKwh ?? meter.monthlyKwhLimit} label={t("usageTitle")} />
                  <a class="button" href={href("/buy", { meter: meter.number })}>{t("buyCta")}</a>
                </li>
              ))}
            </ul>
            <a href={href("/meters/add")}>{t("addMeterCta")}</a>
          </section>
          <section class="card" aria-labelledby="last-h">
            <h2 id="last-h">{t("lastPurchases")}</h2>
            <PurchaseList purchases={me.purchases.nodes} />
            <a href={href("/history")}>{t("seeAll")}</a>
          </section>
        </>
      )}
    </>
  );
}

