// Add a meter: live digit-count and check-digit feedback, then an inquiry shows the holder's name,
// tariff and region for confirmation before the meter is saved.
import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { InquiryQuery, SaveMeterMutation } from "../api/operations";
import { checkMeterInput, normalise } from "../meter";
import { navigate } from "../route";
import { t } from "../i18n";
import { Alert, ErrorAlert, Field, Loading, PageTitle, Row } from "../ui/components";

export function AddMeterPage() {
  const [raw, setRaw] = useState("");
  const [alias, setAlias] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  const state = checkMeterInput(raw);
  const number = normalise(raw);
  const [inquiry] = useQuery({ query: InquiryQuery, variables: { number: asked ?? "" }, pause: asked === null, requestPolicy: "network-only" });
  const [saved, saveMeter] = useMutation(SaveMeterMutation);

  // A complete, well-formed number is looked up at once; editing it again starts over.
  useEffect(() => {
    setAsked(state.kind === "ok" ? number : null);
  }, [number, state.kind]);

  let hint = t("needDigits");
  let error: string | null = null;
  if (state.kind === "not-digits") error = t("onlyDigits");
  else if (state.kind === "incomplete") hint = `${t("needDigits")} ${t("digitsSoFar", { n: state.digits })}`;
  else if (state.kind === "bad-check-digit") error = t("badCheckDigit");
  else if (state.kind === "ok") hint = `${t("looksValid")} (${state.as === "IDPEL" ? t("idpel") : t("meterNumber")})`;

  const found = asked !== null ? inquiry.data?.inquiry : undefined;
  const save = async (e: Event) => {
    e.preventDefault();
    if (!found) return;
    const r = await saveMeter({ number: found.meterNumber, alias: alias.trim() || null });
    if (r.data) navigate("/", { saved: found.meterNumber });
  };
  return (
    <>
      <PageTitle>{t("addMeterTitle")}</PageTitle>
      <section class="card">
        <form onSubmit={(e) => e.preventDefault()}>
          <Field id="meter-number" label={t("meterOrIdpel")} inputMode="numeric" autoComplete="off" value={raw}
            onValue={setRaw} hint={hint} error={error} maxLength={16} />
        </form>
        <div aria-live="polite">
          {asked !== null && inquiry.fetching && <Loading />}
          <ErrorAlert error={asked !== null ? inquiry.error : null} />
          {found && (
            <form onSubmit={save} class="confirm">
              <p>{t("confirmHolder")}</p>
              <dl>
                <Row label={t("holder")} strong>{found.holderName}</Row>
                <Row label={t("meterNumber")}>{found.meterNumber}</Row>
                <Row label={t("idpel")}>{found.idpel}</Row>
                <Row label={t("tariffPower")}>{found.tariffCode}/{found.powerVa.toLocaleString("id-ID")} VA</Row>
                <Row label={t("region")}>{found.region.name}</Row>
              </dl>
              {!found.checkDigitValid && <Alert kind="info">{t("badCheckDigit")}</Alert>}
              <Field id="alias" label={t("alias")} value={alias} onValue={setAlias} maxLength={40} />
              <ErrorAlert error={saved.error} />
              <div class="actions">
                <button class="primary" type="submit" disabled={saved.fetching}>{saved.fetching ? t("working") : t("saveMeter")}</button>
                <button type="button" onClick={() => setRaw("")}>{t("cancel")}</button>
              </div>
            </form>
          )}
        </div>
      </section>
    </>
  );
}
