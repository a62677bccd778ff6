// The struk: every field of a PLN prepaid receipt, laid out for a receipt printer or A4 (print CSS).
// Its labels are PLN's own Indonesian wording whatever the app's language, as on any struk.
import { useQuery } from "@urql/preact";
import { PurchaseQuery } from "../api/operations";
import { href } from "../route";
import { formatDateTime, formatKwhNumber, formatRupiah, groupToken, t } from "../i18n";
import { ErrorAlert, Loading, PageTitle } from "../ui/components";

export function ReceiptPage({ id }: { id?: string }) {
  const [result] = useQuery({ query: PurchaseQuery, variables: { id: id ?? "" } });
  const p = result.data?.purchase;
  if (!p) {
    return (
      <>
        <PageTitle>{t("receiptTitle")}</PageTitle>
        <ErrorAlert error={result.error} />
        {result.fetching ? <Loading /> : !result.error && <p>{t("err_NOT_FOUND")}</p>}
      </>
    );
  }
  const rows: [string, string][] = [
    ["NO METER", p.meterNumber],
    ["IDPEL", p.idpel],
    ["NAMA", p.holderName],
    ["TARIF/DAYA", `${p.tariffCode}/${p.powerVa.toLocaleString("id-ID")} VA`],
    ["WILAYAH", p.meter.region.name],
    ["NO REF", p.billerReference ?? "-"],
    ["REF SETRUM", p.channelReference],
    ["RP BAYAR", formatRupiah(p.totalPaid)],
    ["NOMINAL", formatRupiah(p.nominal)],
    ["METERAI", formatRupiah(p.stampDuty)],
    ["PPN", formatRupiah(p.ppn)],
    ["PPJ", formatRupiah(p.ppj)],
    ["ANGSURAN", formatRupiah(p.instalment)],
    ...(p.instalmentDebtLeft != null && Number(p.instalmentDebtLeft) > 0
      ? [["SISA ANGSURAN", formatRupiah(p.instalmentDebtLeft)] as [string, string]]
      : []),
    ["RP STROOM/TOKEN", formatRupiah(p.energyValue)],
    ["JML KWH", formatKwhNumber(p.kwh)],
    ["ADMIN BANK", formatRupiah(p.adminFee)],
    ["TGL BAYAR", formatDateTime(p.issuedAt ?? p.createdAt)],
  ];
  return (
    <>
      <div class="no-print">
        <PageTitle>{t("receiptTitle")}</PageTitle>
        <div class="actions">
          <button type="button" class="primary" onClick={() => print()}>{t("print")}</button>
          <a class="button" href={href(`/purchase/${encodeURIComponent(p.id)}`)}>{t("back")}</a>
        </div>
      </div>
      <article class="struk" aria-label={t("receiptTitle")}>
        <header>
          <p class="struk-title">{t("receiptHeader")}</p>
          <p>SETRUM · PPOB</p>
        </header>
        <dl>
          {rows.map(([label, value]) => (
            <div class="struk-row" key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        {(p.keyChangeTokens ?? []).map((token, i) => (
          <div class="struk-token" key={token}>
            <p>TOKEN GANTI KUNCI (KCT) {i + 1}</p>
            <p class="token-digits">{groupToken(token)}</p>
          </div>
        ))}
        <div class="struk-token">
          <p>STROOM/TOKEN</p>
          <p class="token-digits" data-testid="receipt-token">{p.token ? groupToken(p.token) : "-"}</p>
        </div>
        <footer>
          {(p.keyChangeTokens ?? []).length > 0 && <p>{t("keyChangeTitle", { n: p.keyChangeTokens!.length })}</p>}
          <p>{t("receiptKeep")}</p>
          <p>{t("receiptFooter")}</p>
        </footer>
      </article>
    </>
  );
}
