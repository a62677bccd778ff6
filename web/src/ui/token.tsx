// A 20-digit STS token in groups of four, with a copy button.
import { useState } from "preact/hooks";
import { groupToken, t } from "../i18n";

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
