// JSONata functions for wedding data, registered on every compiled mapping.
// Each returns undefined (JSONata's "nothing") rather than throwing on input
// it cannot read, so a mapping can fall back with `?:` or the output
// validation names the field.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

/** Offset of `timeZone` at the given UTC instant, in minutes east of UTC. */
function offsetMinutes(utcMillis: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMillis));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - utcMillis) / 60_000);
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

/** "2027-06-12", "14:00", "Europe/London" -> "2027-06-12T14:00:00+01:00" (wall time in that zone). */
export function weddingDateTime(date: unknown, time: unknown, timeZone: unknown): string | undefined {
  if (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const t = typeof time === "string" && /^\d{1,2}:\d{2}(:\d{2})?$/.test(time) ? time : "00:00";
  const tz = typeof timeZone === "string" && validZone(timeZone) ? timeZone : "UTC";
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm, ss = 0] = t.split(":").map(Number) as [number, number, number?];
  const wall = Date.UTC(y, m - 1, d, hh, mm, ss);
  // Two passes settle the offset across DST transitions.
  let offset = offsetMinutes(wall, tz);
  offset = offsetMinutes(wall - offset * 60_000, tz);
  const sign = offset >= 0 ? "+" : "-";
  return `${date}T${pad(hh)}:${pad(mm)}:${pad(ss)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** A date in ISO, US M/D/YYYY, RFC 2822 or epoch milliseconds -> "YYYY-MM-DD". */
export function isoDate(value: unknown, timeZone?: unknown): string | undefined {
  const tz = typeof timeZone === "string" && validZone(timeZone) ? timeZone : "UTC";
  const fromInstant = (ms: number) => {
    if (!Number.isFinite(ms)) return undefined;
    const local = ms + offsetMinutes(ms, tz) * 60_000;
    return new Date(local).toISOString().slice(0, 10);
  };
  if (typeof value === "number") return fromInstant(value);
  if (typeof value !== "string") return undefined;
  const s = value.trim();
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (plain) return realDate(Number(plain[1]), Number(plain[2]), Number(plain[3]));
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (us) return realDate(Number(us[3]), Number(us[1]), Number(us[2]));
  if (/^\d{4}-\d{2}-\d{2}T/.test(s) || /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4}/.test(s)) return fromInstant(Date.parse(s));
  return undefined;
}

function realDate(y: number, m: number, d: number): string | undefined {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return undefined;
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** A phone number -> E.164, using `defaultCountry` (ISO 3166 alpha-2) for national numbers. */
export function e164(phone: unknown, defaultCountry?: unknown): string | undefined {
  if (typeof phone !== "string" && typeof phone !== "number") return undefined;
  const country = typeof defaultCountry === "string" ? (defaultCountry.toUpperCase() as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(String(phone), country);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** "Ana María López" -> { first: "Ana María", last: "López" }; one word is a first name. */
export function splitName(full: unknown): { first: string; last?: string } | undefined {
  if (typeof full !== "string") return undefined;
  const words = full.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  if (words.length === 1) return { first: words[0]! };
  return { first: words.slice(0, -1).join(" "), last: words.at(-1)! };
}

export function joinName(first: unknown, last: unknown): string | undefined {
  const parts = [first, last].filter((p): p is string => typeof p === "string" && p.trim() !== "").map((p) => p.trim());
  return parts.length ? parts.join(" ") : undefined;
}

/** "120-150" -> { min: 120, max: 150 }; "about 80" -> { min: 80, max: 80 }. */
export function guestRange(value: unknown): { min: number; max: number } | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0)
    return { min: Math.round(value), max: Math.round(value) };
  if (typeof value !== "string") return undefined;
  const numbers = value.match(/\d+/g)?.map(Number) ?? [];
  if (numbers.length === 0) return undefined;
  return { min: Math.min(...numbers), max: Math.max(...numbers) };
}

/** The planning figure: the upper bound of a range. */
export function guestCount(value: unknown): number | undefined {
  return guestRange(value)?.max;
}

/** name -> [implementation, JSONata signature] */
export const WEDDING_FUNCTIONS: Record<string, [(...args: never[]) => unknown, string]> = {
  weddingDateTime: [weddingDateTime, "<s-s?s?:s>"],
  isoDate: [isoDate, "<(sn)-s?:s>"],
  e164: [e164, "<(sn)-s?:s>"],
  splitName: [splitName, "<s-:o>"],
  joinName: [joinName, "<s?s?:s>"],
  guestRange: [guestRange, "<(sn)-:o>"],
  guestCount: [guestCount, "<(sn)-:n>"],
};
