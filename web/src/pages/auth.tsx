// Sign in and sign up: both start a session from the AuthPayload and open the dashboard.
import { useState } from "preact/hooks";
import { useMutation } from "@urql/preact";
import { SignInMutation, SignUpMutation } from "../api/operations";
import { startSession } from "../session";
import { href, navigate } from "../route";
import { t } from "../i18n";
import { Alert, ErrorAlert, Field, PageTitle } from "../ui/components";

interface AuthPayload {
  token: string;
  expiresAt: string;
  customer: { name: string };
}

function finish(payload: AuthPayload | undefined, params: URLSearchParams): void {
  if (!payload) return;
  startSession({ token: payload.token, expiresAt: payload.expiresAt, name: payload.customer.name });
  const next = params.get("next");
  navigate(next && next.startsWith("/") ? next : "/");
}

export function SignInPage({ params }: { params: URLSearchParams }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [result, signIn] = useMutation(SignInMutation);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await signIn({ email: email.trim(), password });
    finish(r.data?.signIn, params);
  };
  return (
    <section class="card narrow">
      <PageTitle>{t("signInTitle")}</PageTitle>
      <p class="muted">{t("tagline")}</p>
      {params.get("expired") && <Alert kind="info">{t("err_UNAUTHENTICATED")}</Alert>}
      {params.get("out") && <Alert kind="info">{t("signedOut")}</Alert>}
      <ErrorAlert error={result.error} />
      <form onSubmit={submit} noValidate={false}>
        <Field id="email" label={t("email")} type="email" autoComplete="username" value={email} onValue={setEmail} required />
        <Field id="password" label={t("password")} type="password" autoComplete="current-password" value={password} onValue={setPassword} required />
        <button class="primary" type="submit" disabled={result.fetching}>
          {result.fetching ? t("working") : t("signIn")}
        </button>
      </form>
      <p>
        {t("noAccount")} <a href={href("/signup")}>{t("signUp")}</a>
      </p>
    </section>
  );
}

export function SignUpPage({ params }: { params: URLSearchParams }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [result, signUp] = useMutation(SignUpMutation);
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = { name: name.trim(), email: email.trim(), password, phone: phone.trim() || null };
    const r = await signUp({ input });
    finish(r.data?.signUp, params);
  };
  return (
    <section class="card narrow">
      <PageTitle>{t("signUpTitle")}</PageTitle>
      <ErrorAlert error={result.error} />
      <form onSubmit={submit}>
        <Field id="name" label={t("name")} autoComplete="name" value={name} onValue={setName} required />
        <Field id="email" label={t("email")} type="email" autoComplete="email" value={email} onValue={setEmail} required />
        <Field id="phone" label={t("phone")} type="tel" autoComplete="tel" inputMode="tel" hint={t("phoneHint")} value={phone} onValue={setPhone} />
        <Field id="password" label={t("password")} type="password" autoComplete="new-password" hint={t("passwordHint")} value={password} onValue={setPassword} required minLength={10} />
        <button class="primary" type="submit" disabled={result.fetching}>
          {result.fetching ? t("working") : t("signUp")}
        </button>
      </form>
      <p>
        {t("haveAccount")} <a href={href("/signin")}>{t("signIn")}</a>
      </p>
    </section>
  );
}
