// Wallet top-up through the payment provider: choose an amount and a way to pay, get a virtual account
// number or a QRIS code with its expiry, and watch (poll) until the provider confirms the payment.
// The open top-up's id is kept in sessionStorage, so a reload shows the same instructions, never a second one.
import { useEffect, useRef, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { CancelTopUpMutation, CreateTopUpMutation, TopUpQuery, WalletQuery } from "../api/operations";
import { formatDateTime, formatRupiah, t } from "../i18n";
import { Alert, ErrorAlert, Field, PageTitle, Row } from "../ui/components";

const PRESETS = ["50000", "100000", "200000", "500000", "1000000"];
const BANKS = ["BCA", "BNI", "BRI", "MANDIRI", "PERMATA"];
const KEY = "setrum.topup";
const POLL_MS = 2000;

type Method = "VIRTUAL_ACCOUNT" | "QRIS";

export function TopUpPage() {
  const [wallet, refetchWallet] = useQuery({ query: WalletQuery, requestPolicy: "network-only" });
  const [amount, setAmount] = useState("100000");
  const [method, setMethod] = useState<Method>("VIRTUAL_ACCOUNT");
  const [bank, setBank] = useState("BCA");
  const [openId, setOpenId] = useState<string | null>(sessionStorage.getItem(KEY));
  const [created, createTopUp] = useMutation(CreateTopUpMutation);
  const [cancelled, cancelTopUp] = useMutation(CancelTopUpMutation);
  const [current, refetch] = useQuery({ query: TopUpQuery, variables: { id: openId ?? "" }, pause: !openId, requestPolicy: "network-only" });
  const inFlight = useRef(false);
  const valid = /^\d+$/.test(amount) && Number(amount) >= 10000;

  const topUp = openId ? current.data?.topUp : null;
  const waiting = topUp?.status === "PENDING";
  // The router offers no subscriptions: poll while the payment is awaited.
  useEffect(() => {
    if (!waiting || current.fetching) return;
    const timer = setTimeout(() => refetch({ requestPolicy: "network-only" }), POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, current.fetching, current.data]);
  useEffect(() => {
    if (topUp && topUp.status !== "PENDING") {
      sessionStorage.removeItem(KEY); // settled: the next top-up starts afresh
      if (topUp.status === "PAID") refetchWallet({ requestPolicy: "network-only" });
    }
  }, [topUp?.status]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!valid || inFlight.current) return;
    inFlight.current = true;
    const r = await createTopUp({ amount, method, bankCode: method === "VIRTUAL_ACCOUNT" ? bank : null });
    inFlight.current = false;
    if (r.data) {
      sessionStorage.setItem(KEY, r.data.createTopUp.id);
      setOpenId(r.data.createTopUp.id);
    }
  };
  const cancel = async () => {
    if (openId) await cancelTopUp({ id: openId });
    refetch({ requestPolicy: "network-only" });
  };
  const startAgain = () => {
    sessionStorage.removeItem(KEY);
    setOpenId(null);
  };

  const balance = current.data?.wallet.balance ?? wallet.data?.wallet.balance;
  return (
    <>
      <PageTitle>{t("topUpTitle")}</PageTitle>
      <section class="card">
        <p>
          {t("walletBalance")}: <strong data-testid="balance">{balance !== undefined ? formatRupiah(balance) : "…"}</strong>
        </p>
        <ErrorAlert error={created.error ?? cancelled.error ?? current.error ?? wallet.error} />
        {topUp ? (
          <TopUpStatus topUp={topUp} balance={balance} onCancel={cancel} onAgain={startAgain} />
        ) : (
          <>
            <Alert kind="info">{t("topUpExplain")}</Alert>
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
              <fieldset class="denominations">
                <legend>{t("payMethod")}</legend>
                {(["VIRTUAL_ACCOUNT", "QRIS"] as Method[]).map((m) => (
                  <label key={m} class={m === method ? "chip chip-on" : "chip"}>
                    <input type="radio" name="method" value={m} checked={m === method} onChange={() => setMethod(m)} />
                    {m === "QRIS" ? t("methodQris") : t("methodVa")}
                  </label>
                ))}
              </fieldset>
              {method === "VIRTUAL_ACCOUNT" && (
                <p>
                  <label for="bank">{t("bank")}</label>{" "}
                  <select id="bank" value={bank} onChange={(e) => setBank((e.target as HTMLSelectElement).value)}>
                    {BANKS.map((b) => <option key={b} value={b}>{b}</option>)}
                  </select>
                </p>
              )}
              <button class="primary" type="submit" disabled={!valid || created.fetching}>
                {created.fetching ? t("working") : `${t("topUp")} ${valid ? formatRupiah(amount) : ""}`}
              </button>
            </form>
          </>
        )}
      </section>
    </>
  );
}

type TopUpView = {
  amount: string; method: string; status: string; bankCode?: string | null; bankName?: string | null;
  vaNumber?: string | null; qrisPayload?: string | null; expiresAt?: string | null;
};

function TopUpStatus({ topUp, balance, onCancel, onAgain }: {
  topUp: TopUpView; balance: string | undefined; onCancel: () => void; onAgain: () => void;
}) {
  const amount = formatRupiah(topUp.amount);
  if (topUp.status === "PAID") {
    return (
      <>
        <Alert kind="success">{t("toppedUp", { amount, balance: balance !== undefined ? formatRupiah(balance) : "…" })}</Alert>
        <button type="button" onClick={onAgain}>{t("newTopUp")}</button>
      </>
    );
  }
  if (topUp.status !== "PENDING") {
    return (
      <>
        <Alert kind="error">{topUp.status === "EXPIRED" ? t("topUpExpired") : t("topUpCancelled")}</Alert>
        <button type="button" onClick={onAgain}>{t("newTopUp")}</button>
      </>
    );
  }
  const va = topUp.method === "VIRTUAL_ACCOUNT";
  return (
    <>
      <h2>{t("payInstructions")}</h2>
      <p>{va ? t("payVaSteps", { amount, bank: topUp.bankName ?? topUp.bankCode ?? "" }) : t("payQrisSteps", { amount })}</p>
      <dl>
        <Row label={t("amount")} strong>{amount}</Row>
        {va && <Row label={t("bank")}>{topUp.bankName ?? topUp.bankCode}</Row>}
        {va ? (
          <Row label={t("vaNumber")} strong><span data-testid="va-number" class="token">{topUp.vaNumber}</span></Row>
        ) : (
          <Row label={t("qrisPayload")}><code data-testid="qris-payload" class="wrap">{topUp.qrisPayload}</code></Row>
        )}
        {topUp.expiresAt && <Row label={t("payBefore")}>{formatDateTime(topUp.expiresAt)}</Row>}
      </dl>
      <Alert kind="info">{t("waitingPayment")}</Alert>
      {import.meta.env.DEV || location.hostname === "127.0.0.1" || location.hostname === "localhost" ? (
        <p class="muted">{t("devPayHint", { handle: va ? topUp.vaNumber ?? "" : "<QRIS>" })}</p>
      ) : null}
      <button type="button" onClick={onCancel}>{t("cancelTopUp")}</button>
    </>
  );
}
