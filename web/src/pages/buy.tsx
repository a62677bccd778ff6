// Buying a token: meter + denomination, the API's full price breakdown, then pay from the wallet.
// The clientReference belongs to the checkout (sessionStorage): a double click, a retry after an
// error or a reload sends the same reference, and a reload first asks whether it already bought.
import { useEffect, useRef, useState } from "preact/hooks";
import { useClient, useMutation, useQuery } from "@urql/preact";
import { BuyOptionsQuery, PurchaseByReferenceQuery, PurchaseTokenMutation, QuoteQuery } from "../api/operations";
import { checkoutFor, clearCheckout, loadCheckout } from "../checkout";
import { href, navigate } from "../route";
import { formatKwh, formatPercent, formatRupiah, t } from "../i18n";
import { Alert, ErrorAlert, Loading, PageTitle, Row } from "../ui/components";

// Denominations come back as Decimals ("100000.00"); quote and purchaseToken take whole rupiah as digits.
const wholeRupiah = (amount: string): string => amount.replace(/\.0*$/, "");

function openPurchase(id: string): void {
  clearCheckout();
  navigate(`/purchase/${encodeURIComponent(id)}`);
}

export function BuyPage({ params }: { params: URLSearchParams }) {
  const client = useClient();
  const saved = loadCheckout();
  const [meter, setMeter] = useState(params.get("meter") ?? saved?.meter ?? "");
  const [denomination, setDenomination] = useState(saved?.denomination ?? "");
  const [checking, setChecking] = useState(saved !== null);
  const [options] = useQuery({ query: BuyOptionsQuery });
  const ready = Boolean(meter && denomination);
  const [quote] = useQuery({ query: QuoteQuery, variables: { meterNumber: meter, denomination }, pause: !ready, requestPolicy: "network-only" });
  const [purchase, purchaseToken] = useMutation(PurchaseTokenMutation);

  // After a reload: if this checkout already bought, show that purchase instead of buying again.
  useEffect(() => {
    if (!saved) return;
    client.query(PurchaseByReferenceQuery, { clientReference: saved.clientReference }, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        const found = r.data?.purchaseByReference;
        if (found) openPurchase(found.id);
        else setChecking(false);
      });
  }, []);

  const me = options.data?.me;
  const meters = me?.meters ?? [];
  useEffect(() => {
    if (!meter && meters.length === 1) setMeter(meters[0].meter.number);
  }, [meters.length]);

  const inFlight = useRef(false);
  const pay = async () => {
    if (!ready || inFlight.current) return;
    inFlight.current = true;
    const { clientReference } = checkoutFor(meter, denomination);
    const r = await purchaseToken({ meterNumber: meter, denomination, clientReference });
    inFlight.current = false;
    if (r.data?.purchaseToken) openPurchase(r.data.purchaseToken.id);
  };

  const q = quote.data?.quote;
  const balance = me ? Number(me.wallet.balance) : 0;
  const short = q ? balance < Number(q.totalPaid) : false;
  if (checking) return <Loading />;
  return (
    <>
      <PageTitle>{t("buyTitle")}</PageTitle>
      <ErrorAlert error={options.error} />
      {options.fetching && !me && <Loading />}
      {me && meters.length === 0 && (
        <Alert kind="info">
          {t("noMeters")} <a href={href("/meters/add")}>{t("addMeterCta")}</a>
        </Alert>
      )}
      {me && meters.length > 0 && (
        <form class="card" onSubmit={(e) => { e.preventDefault(); void pay(); }}>
          <div class="field">
            <label for="meter">{t("chooseMeter")}</label>
            <select id="meter" value={meter} onChange={(e) => setMeter((e.target as HTMLSelectElement).value)} required>
              <option value="" disabled>—</option>
              {meters.map(({ alias, meter: m }) => (
                <option key={m.number} value={m.number}>
                  {(alias ? `${alias} · ` : "") + `${m.number} · ${m.holderName} · ${m.tariff.code}/${m.powerVa} VA`}
                </option>
              ))}
            </select>
          </div>
          <fieldset class="denominations">
            <legend>{t("chooseDenomination")}</legend>
            {options.data!.denominations.map(({ amount }) => wholeRupiah(amount)).map((amount) => (
              <label key={amount} class={amount === denomination ? "chip chip-on" : "chip"}>
                <input type="radio" name="denomination" value={amount} checked={amount === denomination}
                  onChange={() => setDenomination(amount)} />
                {formatRupiah(amount)}
              </label>
            ))}
          </fieldset>
          {ready && quote.fetching && <Loading />}
          <ErrorAlert error={quote.error} />
          {q && (
            <section aria-labelledby="breakdown-h" class="breakdown">
              <h2 id="breakdown-h">{t("priceBreakdown")}</h2>
              <dl>
                <Row label={t("meterNumber")}>{q.meterNumber}</Row>
                <Row label={t("idpel")}>{q.idpel}</Row>
                <Row label={t("holder")}>{q.holderName}</Row>
                <Row label={t("tariffPower")}>{q.tariffCode}/{q.powerVa.toLocaleString("id-ID")} VA</Row>
                <Row label={t("nominal")}>{formatRupiah(q.nominal)}</Row>
                <Row label={t("energyValue")}>{formatRupiah(q.energyValue)}</Row>
                <Row label={t("ppj", { rate: formatPercent(q.ppjRate) })}>{formatRupiah(q.ppj)}</Row>
                <Row label={t("ppn", { rate: formatPercent(q.ppnRate) })}>{formatRupiah(q.ppn)}</Row>
                <Row label={t("stampDuty")}>{formatRupiah(q.stampDuty)}</Row>
                <Row label={t("instalment")}>{formatRupiah(q.instalment)}</Row>
                <Row label={t("tariffRate")}>{formatRupiah(q.tariffRate)}</Row>
                <Row label={t("kwh")}>{formatKwh(q.kwh)}</Row>
                <Row label={t("adminFee")}>{formatRupiah(q.adminFee)}</Row>
                <Row label={t("totalPaid")} strong>{formatRupiah(q.totalPaid)}</Row>
                {Number(q.instalmentDebtLeft) > 0 && <Row label={t("debtLeft")}>{formatRupiah(q.instalmentDebtLeft)}</Row>}
                {q.monthlyKwhRemaining != null && <Row label={t("kwhRemaining")}>{formatKwh(q.monthlyKwhRemaining)}</Row>}
              </dl>
              {q.keyChange && (
                <Alert kind="info">
                  {t("keyChangeTitle", { n: q.keyChange.tokensBeforeCredit })}
                </Alert>
              )}
              <p class="muted">
                {t("walletBalance")}: {formatRupiah(me.wallet.balance)}
                {!short && <> · {t("balanceAfter", { amount: formatRupiah(balance - Number(q.totalPaid)) })}</>}
              </p>
              {short && !purchase.error && (
                <Alert kind="info">
                  {t("err_INSUFFICIENT_BALANCE")} <a href={href("/topup")}>{t("topUpCta")}</a>
                </Alert>
              )}
            </section>
          )}
          <ErrorAlert error={purchase.error} />
          <button class="primary" type="submit" disabled={!q || purchase.fetching} aria-disabled={!q || purchase.fetching}>
            {purchase.fetching ? t("working") : `${t("payFromWallet")}${q ? ` · ${formatRupiah(q.totalPaid)}` : ""}`}
          </button>
        </form>
      )}
    </>
  );
}
