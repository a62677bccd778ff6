// Wallet top-up through what the API offers today: `topUpWallet` credits a (simulated) payment,
// idempotent by paymentReference. This module is the only place that knows how money comes in,
// so a payment-provider flow can replace it without touching the rest of the app.
import { useRef, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { TopUpMutation, WalletQuery } from "../api/operations";
import { newReference } from "../checkout";
import { formatRupiah, t } from "../i18n";
import { Alert, ErrorAlert, Field, PageTitle } from "../ui/components";

const PRESETS = ["50000", "100000", "200000", "500000", "1000000"];
const KEY = "setrum.topup";

/** The paymentReference of this top-up attempt: kept until it succeeded, so a retry never credits twice. */
function referenceFor(amount: string): string {
  const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as { amount: string; ref: string } | null;
  if (saved && saved.amount === amount) return saved.ref;
  const ref = newReference("topup");
  sessionStorage.setItem(KEY, JSON.stringify({ amount, ref }));
  return ref;
}

export function TopUpPage() {
  const [wallet] = useQuery({ query: WalletQuery, requestPolicy: "network-only" });
  const [amount, setAmount] = useState("100000");
  const [done, setDone] = useState<{ amount: string; balance: string } | null>(null);
  const [result, topUp] = useMutation(TopUpMutation);
  const inFlight = useRef(false);
  const valid = /^\d+$/.test(amount) && Number(amount) >= 10000;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!valid || inFlight.current) return;
    inFlight.current = true;
    const r = await topUp({ amount, paymentReference: referenceFor(amount) });
    inFlight.current = false;
    if (r.data) {
      sessionStorage.removeItem(KEY);
      setDone({ amount, balance: r.data.topUpWallet.balance });
    }
  };
  const balance = done?.balance ?? wallet.data?.wallet.balance;
  return (
    <>
      <PageTitle>{t("topUpTitle")}</PageTitle>
      <section class="card">
        <p>
          {t("walletBalance")}: <strong data-testid="balance">{balance !== undefined ? formatRupiah(balance) : "…"}</strong>
        </p>
        <Alert kind="info">{t("topUpExplain")}</Alert>
        {done && <Alert kind="success">{t("toppedUp", { amount: formatRupiah(done.amount), balance: formatRupiah(done.balance) })}</Alert>}
        <ErrorAlert error={result.error ?? wallet.error} />
        <form onSubmit={submit}>
          <fieldset class="denominations">
            <legend>{t("amount")}</legend>
            {PRESETS.map((p) => (
              <label key={p} class={p === amount ? "chip chip-on" : "chip"}>
                <input type="radio" name="preset" value={p} checked={p === amount} onChange={() => setAmount(p)} />
                {formatRupiah(p)}
              </label>
            ))}
          </fieldset>
          <Field id="amount" label={`${t("amount")} (Rp)`} inputMode="numeric" value={amount}
            onValue={(v) => setAmount(v.replace(/\D/g, ""))} error={amount && !valid ? "≥ Rp10.000" : null} />
          <button class="primary" type="submit" disabled={!valid || result.fetching}>
            {result.fetching ? t("working") : `${t("topUp")} ${valid ? formatRupiah(amount) : ""}`}
          </button>
        </form>
      </section>
    </>
  );
}
