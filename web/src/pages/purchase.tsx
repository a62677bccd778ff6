// One purchase: its status (polled while PENDING), the token, reprint, and the way to the receipt.
import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { PurchaseQuery, ReprintMutation } from "../api/operations";
import { href } from "../route";
import { formatDateTime, formatKwh, formatRupiah, t } from "../i18n";
import { Alert, ErrorAlert, Loading, PageTitle, Row, StatusBadge } from "../ui/components";
import { KeyChangeTokens, TokenBox } from "../ui/token";

const POLL_MS = 2000;

export function PurchasePage({ id }: { id?: string }) {
  const [result, refetch] = useQuery({ query: PurchaseQuery, variables: { id: id ?? "" }, requestPolicy: "network-only" });
  const [reprint, reprintToken] = useMutation(ReprintMutation);
  const [reprinted, setReprinted] = useState(false);
  const p = result.data?.purchase;
  const pending = p?.status === "PENDING";

  // The router offers no subscriptions: poll while the biller has not settled the purchase.
  useEffect(() => {
    if (!pending || result.fetching) return;
    const timer = setTimeout(() => refetch({ requestPolicy: "network-only" }), POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, result.fetching, result.data]);

  const doReprint = async () => {
    const r = await reprintToken({ id: id ?? "" });
    if (r.data) setReprinted(true);
  };
  if (!p) {
    return (
      <>
        <PageTitle>{t("purchaseTitle")}</PageTitle>
        <ErrorAlert error={result.error} />
        {result.fetching ? <Loading /> : !result.error && <p>{t("err_NOT_FOUND")}</p>}
      </>
    );
  }
  const token = reprint.data?.reprintToken.token ?? p.token;
  return (
    <>
      <PageTitle>
        {t("purchaseTitle")} {formatRupiah(p.denomination)}
      </PageTitle>
      <section class="card" aria-live="polite">
        <p>
          {t("status")}: <StatusBadge status={p.status} />
        </p>
        {pending && <Alert kind="info">{t("pendingExplain")}</Alert>}
        {(p.status === "FAILED" || p.status === "REFUNDED") && (
          <Alert kind="error">
            {t("failedExplain")}
            {p.failureCode ? ` (${p.failureCode})` : ""}
          </Alert>
        )}
        {token && <KeyChangeTokens tokens={p.keyChangeTokens ?? []} />}
        {token && <TokenBox token={token} />}
        {reprinted && <Alert kind="success">{t("reprinted")}</Alert>}
        <ErrorAlert error={reprint.error} />
        <dl>
          <Row label={t("meterNumber")}>{p.meterNumber}</Row>
          <Row label={t("holder")}>{p.holderName}</Row>
          <Row label={t("tariffPower")}>{p.tariffCode}/{p.powerVa.toLocaleString("id-ID")} VA</Row>
          <Row label={t("kwh")}>{formatKwh(p.kwh)}</Row>
          <Row label={t("totalPaid")} strong>{formatRupiah(p.totalPaid)}</Row>
          {p.instalmentDebtLeft != null && Number(p.instalmentDebtLeft) > 0 && (
            <Row label={t("debtLeft")}>{formatRupiah(p.instalmentDebtLeft)}</Row>
          )}
          <Row label={t("dateTime")}>{formatDateTime(p.createdAt)}</Row>
        </dl>
        <div class="actions">
          {p.status === "SUCCESS" && (
            <>
              <button type="button" onClick={doReprint} disabled={reprint.fetching}>{t("reprint")}</button>
              <a class="button primary" href={href(`/receipt/${encodeURIComponent(p.id)}`)}>{t("receipt")}</a>
            </>
          )}
          <a class="button" href={href("/buy", { meter: p.meterNumber })}>{t("buyAgain")}</a>
        </div>
      </section>
    </>
  );
}
