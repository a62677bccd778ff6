// Turning an API failure into a message the customer can act on, by extensions.code.
import type { CombinedError } from "@urql/core";
import { hasMessage, t } from "../i18n";

/** The first error code of a failed request ("NETWORK" when the router was not reached). */
export function errorCode(error: CombinedError): string {
  for (const e of error.graphQLErrors) {
    const code = e.extensions?.code;
    if (typeof code === "string") return code;
  }
  const status = (error.response as Response | undefined)?.status;
  if (status === 429) return "RATE_LIMITED";
  if (status === 503) return "SERVICE_UNAVAILABLE";
  if (error.networkError) return "NETWORK";
  return "UNKNOWN";
}

export function errorMessage(error: CombinedError): string {
  const code = errorCode(error);
  const message = error.graphQLErrors[0]?.message ?? "";
  const key = `err_${code}`;
  return hasMessage(key) ? t(key, { message }) : t("err_UNKNOWN", { code });
}
