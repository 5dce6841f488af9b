// The core-field schema: one list of fields shared by WedMe, WedSync, the
// console, imports and webhooks. Adding a field is adding an entry here.
// Plain TypeScript + zod (no server imports), so forms in the browser use it too.
import { z } from "zod";

export type Writer = "couple" | "supplier" | "staff";
export type FieldKind = "date" | "time" | "timezone" | "text" | "email" | "phone" | "integer" | "money";

export interface FieldDefinition {
  label: string;
  kind: FieldKind;
  /** Who may change it: the couple (WedMe), a connected supplier (WedSync), hub staff (console). */
  writers: readonly Writer[];
  group: "wedding" | "venue" | "people" | "guests" | "style";
  schema: z.ZodType;
}

const isTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const isCalendarDate = (d: string) => {
  const parsed = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === d;
};

const date = z
  .string({ error: "must be a date like 2027-06-12" })
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date like 2027-06-12")
  .refine(isCalendarDate, "is not a real calendar date");
const time = z
  .string({ error: "must be a time like 14:30" })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a 24-hour time like 14:30");
const timezone = z
  .string({ error: "must be an IANA time zone like Europe/London" })
  .refine(isTimezone, "must be an IANA time zone like Europe/London");
const text = (max: number) =>
  z.string({ error: "must be text" }).trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);
const email = z.email("must be an email address like name@example.com");
const phone = z
  .string({ error: "must be a phone number" })
  .regex(/^\+[1-9]\d{6,14}$/, "must be an international phone number like +447700900123 (E.164)");
const count = (max: number) =>
  z
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(0, "must not be negative")
    .max(max, `must be at most ${max}`);
const money = z.number({ error: "must be an amount" }).min(0, "must not be negative").max(100_000_000, "is implausibly large");

const couple = ["couple", "staff"] as const;
const coupleOrSupplier = ["couple", "supplier", "staff"] as const;

export const CORE_FIELDS = {
  weddingDate: { label: "Wedding date", kind: "date", writers: couple, group: "wedding", schema: date },
  timezone: { label: "Time zone", kind: "timezone", writers: couple, group: "wedding", schema: timezone },
  ceremonyTime: { label: "Ceremony time", kind: "time", writers: coupleOrSupplier, group: "wedding", schema: time },
  receptionTime: { label: "Reception time", kind: "time", writers: coupleOrSupplier, group: "wedding", schema: time },
  venueName: { label: "Venue", kind: "text", writers: couple, group: "venue", schema: text(200) },
  venueAddress: { label: "Venue address", kind: "text", writers: couple, group: "venue", schema: text(500) },
  guestCount: { label: "Guest count", kind: "integer", writers: couple, group: "guests", schema: count(5000) },
  dietaryVegetarian: { label: "Vegetarian guests", kind: "integer", writers: couple, group: "guests", schema: count(5000) },
  dietaryVegan: { label: "Vegan guests", kind: "integer", writers: couple, group: "guests", schema: count(5000) },
  dietaryGlutenFree: { label: "Gluten-free guests", kind: "integer", writers: couple, group: "guests", schema: count(5000) },
  partner1Name: { label: "Partner 1 name", kind: "text", writers: couple, group: "people", schema: text(200) },
  partner1Email: { label: "Partner 1 email", kind: "email", writers: couple, group: "people", schema: email },
  partner1Phone: { label: "Partner 1 phone", kind: "phone", writers: couple, group: "people", schema: phone },
  partner2Name: { label: "Partner 2 name", kind: "text", writers: couple, group: "people", schema: text(200) },
  partner2Email: { label: "Partner 2 email", kind: "email", writers: couple, group: "people", schema: email },
  partner2Phone: { label: "Partner 2 phone", kind: "phone", writers: couple, group: "people", schema: phone },
  budget: { label: "Budget", kind: "money", writers: couple, group: "style", schema: money },
  style: { label: "Style", kind: "text", writers: couple, group: "style", schema: text(100) },
} as const satisfies Record<string, FieldDefinition>;

export type CoreFieldName = keyof typeof CORE_FIELDS;
export const CORE_FIELD_NAMES = Object.keys(CORE_FIELDS) as CoreFieldName[];

/** Vendor-owned data about one wedding: written by the supplier (or staff), read by the couple. */
export const VENDOR_FIELDS = {
  availability: {
    label: "Availability",
    kind: "text",
    writers: ["supplier", "staff"],
    group: "wedding",
    schema: z.enum(["confirmed", "tentative", "unavailable"], { error: "must be confirmed, tentative or unavailable" }),
  },
  arrivalTime: { label: "Arrival time", kind: "time", writers: ["supplier", "staff"], group: "wedding", schema: time },
  setupMinutes: {
    label: "Setup (minutes)",
    kind: "integer",
    writers: ["supplier", "staff"],
    group: "wedding",
    schema: count(24 * 60),
  },
  vendorNotes: {
    label: "Vendor notes",
    kind: "text",
    writers: ["supplier", "staff"],
    group: "wedding",
    schema: z.string({ error: "must be text" }).max(2000, "must be at most 2000 characters"),
  },
} as const satisfies Record<string, FieldDefinition>;

export type VendorFieldName = keyof typeof VENDOR_FIELDS;

export type FieldSet = Record<string, FieldDefinition>;
export type FieldValues = Record<string, unknown>;

export interface PatchProblems {
  /** Per field: what is wrong, in words a person can act on. */
  fields: Record<string, string[]>;
  /** Fields the writer may not change. */
  forbidden: string[];
}

/**
 * Validate a partial update. `null` clears a field. Unknown fields and
 * invalid values are reported per field; nothing is partially accepted.
 */
export function validatePatch(
  set: FieldSet,
  patch: unknown,
  writer: Writer,
): { ok: true; values: FieldValues } | { ok: false; problems: PatchProblems } {
  const problems: PatchProblems = { fields: {}, forbidden: [] };
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return { ok: false, problems: { fields: { fields: ["must be an object of field names to values"] }, forbidden: [] } };
  }
  const values: FieldValues = {};
  const entries = Object.entries(patch as Record<string, unknown>);
  if (entries.length === 0) problems.fields.fields = ["name at least one field to change"];
  for (const [name, value] of entries) {
    const def = set[name];
    if (!def) {
      problems.fields[name] = [`is not a known field (known: ${Object.keys(set).join(", ")})`];
      continue;
    }
    if (!def.writers.includes(writer)) {
      problems.forbidden.push(name);
      continue;
    }
    if (value === null) {
      values[name] = null;
      continue;
    }
    const parsed = def.schema.safeParse(value);
    if (parsed.success) values[name] = parsed.data;
    else problems.fields[name] = parsed.error.issues.map((i) => i.message);
  }
  if (Object.keys(problems.fields).length || problems.forbidden.length) return { ok: false, problems };
  return { ok: true, values };
}

/** Field-level differences between two value sets, for the fields in `patch`. */
export function diffFields(current: FieldValues, patch: FieldValues): Record<string, { old: unknown; new: unknown }> {
  const diff: Record<string, { old: unknown; new: unknown }> = {};
  for (const [name, next] of Object.entries(patch)) {
    const prev = current[name] ?? null;
    if (JSON.stringify(prev) !== JSON.stringify(next ?? null)) diff[name] = { old: prev, new: next ?? null };
  }
  return diff;
}

/** Apply a patch: null removes the field. */
export function applyPatch(current: FieldValues, patch: FieldValues): FieldValues {
  const next: FieldValues = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next;
}

/** Turn HTML form strings into typed values for a field set ("" means clear). */
export function coerceFormValue(def: FieldDefinition, raw: string): unknown {
  const value = raw.trim();
  if (value === "") return null;
  if (def.kind === "integer" || def.kind === "money") {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  return value;
}
