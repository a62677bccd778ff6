// Once-per-checkout references kept in sessionStorage, so that a double click, a retry or a reload
// replays the same clientReference (purchases) or paymentReference (top-ups) and never pays twice.
export interface Checkout {
  meter: string;
  denomination: string;
  clientReference: string;
}

/** A random reference; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newReference(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const CHECKOUT = "setrum.checkout";

export function loadCheckout(): Checkout | null {
  try {
    return JSON.parse(sessionStorage.getItem(CHECKOUT) ?? "null") as Checkout | null;
  } catch {
    return null;
  }
}

/** The checkout for this meter and denomination: the stored one if it matches, else a new one. */
export function checkoutFor(meter: string, denomination: string): Checkout {
  const current = loadCheckout();
  if (current && current.meter === meter && current.denomination === denomination) return current;
  const next = { meter, denomination, clientReference: newReference("web") };
  sessionStorage.setItem(CHECKOUT, JSON.stringify(next));
  return next;
}

export function clearCheckout(): void {
  sessionStorage.removeItem(CHECKOUT);
}
