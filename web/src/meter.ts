// Client-side checks of what a customer types as a meter: 11-digit meter number (Luhn check
// digit) or 12-digit IDPEL. The API checks again; this only gives feedback while typing.
export const METER_DIGITS = 11;
export const IDPEL_DIGITS = 12;

export function luhnValid(number: string): boolean {
  let total = 0;
  for (let i = 0; i < number.length; i++) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    total += d;
  }
  return number.length > 1 && total % 10 === 0;
}

export type MeterInputState =
  | { kind: "empty" }
  | { kind: "not-digits" }
  | { kind: "incomplete"; digits: number }
  | { kind: "bad-check-digit" }
  | { kind: "ok"; as: "METER_NUMBER" | "IDPEL" };

/** Spaces and dashes are allowed while typing (numbers are often printed in groups). */
export function normalise(raw: string): string {
  return raw.replace(/[\s-]/g, "");
}

export function checkMeterInput(raw: string): MeterInputState {
  const value = normalise(raw);
  if (!value) return { kind: "empty" };
  if (!/^\d+$/.test(value)) return { kind: "not-digits" };
  if (value.length === METER_DIGITS) return luhnValid(value) ? { kind: "ok", as: "METER_NUMBER" } : { kind: "bad-check-digit" };
  if (value.length === IDPEL_DIGITS) return { kind: "ok", as: "IDPEL" };
  return { kind: "incomplete", digits: value.length };
}
