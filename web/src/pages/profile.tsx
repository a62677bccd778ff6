// Profile (name, email, phone) and changing the password with the current one (updateProfile).
import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery } from "@urql/preact";
import { ProfileQuery, UpdateProfileMutation } from "../api/operations";
import { formatDate, t } from "../i18n";
import { Alert, ErrorAlert, Field, Loading, PageTitle } from "../ui/components";

export function ProfilePage() {
  const [profile] = useQuery({ query: ProfileQuery });
  const me = profile.data?.me;
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [phone, setPhone] = useState("");
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [details, saveDetails] = useMutation(UpdateProfileMutation);
  const [password, savePassword] = useMutation(UpdateProfileMutation);
  const [detailsSaved, setDetailsSaved] = useState(false);
  const [passwordSaved, setPasswordSaved] = useState(false);

  useEffect(() => {
    if (!me) return;
    setName(me.name);
    setEmail(me.email);
    setPhone(me.phone ?? "");
  }, [me?.id]);

  const submitDetails = async (e: Event) => {
    e.preventDefault();
    setDetailsSaved(false);
    const r = await saveDetails({ input: { name: name.trim(), email: email.trim(), phone: phone.trim() || null } });
    setDetailsSaved(Boolean(r.data));
  };
  const submitPassword = async (e: Event) => {
    e.preventDefault();
    setPasswordSaved(false);
    const r = await savePassword({ input: { currentPassword: current, newPassword: next } });
    if (r.data) {
      setCurrent("");
      setNext("");
      setPasswordSaved(true);
    }
  };
  return (
    <>
      <PageTitle>{t("profileTitle")}</PageTitle>
      <ErrorAlert error={profile.error} />
      {!me && profile.fetching && <Loading />}
      {me && (
        <>
          <form class="card" onSubmit={submitDetails} aria-labelledby="details-h">
            <h2 id="details-h">{t("personalDetails")}</h2>
            <p class="muted">{t("memberSince", { date: formatDate(me.createdAt) })}</p>
            {detailsSaved && <Alert kind="success">{t("profileSaved")}</Alert>}
            <ErrorAlert error={details.error} />
            <Field id="name" label={t("name")} autoComplete="name" value={name} onValue={setName} required />
            <Field id="email" label={t("email")} type="email" autoComplete="email" value={email} onValue={setEmail} required />
            <Field id="phone" label={t("phone")} type="tel" autoComplete="tel" hint={t("phoneHint")} value={phone} onValue={setPhone} />
            <button class="primary" type="submit" disabled={details.fetching}>{t("saveProfile")}</button>
          </form>
          <form class="card" onSubmit={submitPassword} aria-labelledby="password-h">
            <h2 id="password-h">{t("changePassword")}</h2>
            {passwordSaved && <Alert kind="success">{t("passwordChanged")}</Alert>}
            <ErrorAlert error={password.error} />
            <input type="text" name="username" autoComplete="username" value={me.email} hidden readOnly />
            <Field id="current-password" label={t("currentPassword")} type="password" autoComplete="current-password" value={current} onValue={setCurrent} required />
            <Field id="new-password" label={t("newPassword")} type="password" autoComplete="new-password" hint={t("passwordHint")} value={next} onValue={setNext} required minLength={10} />
            <button class="primary" type="submit" disabled={password.fetching}>{t("changePassword")}</button>
          </form>
        </>
      )}
    </>
  );
}
