// Small accessible building blocks shared by the pages.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { CombinedError } from "@urql/core";
import { errorMessage } from "../api/errors";
import { t, type MessageKey } from "../i18n";

let firstPage = true;

/** The page heading; focused after a navigation so screen readers announce the new page (not on
 *  the first load, where focus stays at the top for the skip link). */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else ref.current?.focus();
    document.title = `${ref.current?.textContent ?? ""} — Setrum`;
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Alert({ kind = "error", children }: { kind?: "error" | "success" | "info"; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function ErrorAlert({ error }: { error: CombinedError | undefined | null }) {
  return error ? <Alert kind="error">{errorMessage(error)}</Alert> : null;
}

export function Loading() {
  return (
    <p class="muted" role="status">
      {t("loading")}
    </p>
  );
}

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  hint?: string;
  error?: string | null;
  type?: string;
  autoComplete?: string;
  inputMode?: "numeric" | "text" | "email" | "tel";
  required?: boolean;
  minLength?: number;
  maxLength?: number;
}

export function Field({ id, label, value, onValue, hint, error, ...rest }: FieldProps) {
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        value={value}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
        aria-describedby={describedBy}
        aria-invalid={error ? true : undefined}
        {...rest}
      />
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

const STATUS_CLASS: Record<string, string> = { SUCCESS: "ok", PENDING: "pending", FAILED: "bad", REFUNDED: "bad" };

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${STATUS_CLASS[status] ?? "pending"}`}>{t(`status_${status}` as MessageKey)}</span>;
}

/** A pair of receipt/breakdown rows as a description list entry. */
export function Row({ label, children, strong }: { label: string; children: ComponentChildren; strong?: boolean }) {
  return (
    <div class={strong ? "row row-strong" : "row"}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
