// A 20-digit STS token in groups of four, with a copy button.
import { useState } from "preact/hooks";
import { groupToken, t } from "../i18n";

/** Key change tokens the meter needs before the credit token, numbered in the order to enter them
 *  (our own words say how: the API's tokenInstructions are English only). */
export function KeyChangeTokens({ tokens }: { tokens: readonly string[] }) {
  if (tokens.length === 0) return null;
  return (
    <section class="keychange" aria-labelledby="keychange-h" data-testid="key-change">
      <p id="keychange-h">
        <strong>{t("keyChangeTitle", { n: tokens.length })}</strong>
      </p>
      <ol>
        {tokens.map((token, i) => (
          <li key={token}>
            <span class="visually-hidden">{t("keyChangeToken", { i: i + 1 })}: </span>
            <span class="token-digits">{groupToken(token)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function TokenBox({ token }: { token: string }) {
  const [copied, setCopied] = useState(false);
  const grouped = groupToken(token);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token);
    } catch {
      // No clipboard permission (plain http on a LAN address): select the digits instead.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("token-digits")!);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
    setCopied(true);
  };
  return (
    <div class="token">
      <p class="token-label" id="token-label">{t("token")}</p>
      <p class="token-digits" id="token-digits" aria-labelledby="token-label" data-testid="token">{grouped}</p>
      <button type="button" class="no-print" onClick={copy}>{t("copy")}</button>
      <span role="status" class="muted">{copied ? t("copied") : ""}</span>
    </div>
  );
}
