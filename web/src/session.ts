// The signed-in session: the bearer token from signIn/signUp and when it expires. Kept in
// localStorage so a reload stays signed in; an expired or rejected token ends the session.
import { signal } from "./signal";

export interface Session {
  token: string;
  expiresAt: string;
  name: string;
}

const KEY = "setrum.session";

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    return parsed && Date.parse(parsed.expiresAt) > Date.now() ? parsed : null;
  } catch {
    return null;
  }
}

export const session = signal<Session | null>(load());

export function startSession(next: Session): void {
  localStorage.setItem(KEY, JSON.stringify(next));
  session.set(next);
}

export function endSession(): void {
  localStorage.removeItem(KEY);
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith("setrum.")) sessionStorage.removeItem(key);
  }
  session.set(null);
}

/** The bearer token while the session is valid; ends an expired session. */
export function currentToken(): string | null {
  const current = session.get();
  if (!current) return null;
  if (Date.parse(current.expiresAt) <= Date.now()) {
    endSession();
    return null;
  }
  return current.token;
}
