// What a mapping can produce. Each target is a zod schema (for validating
// outputs, with errors per field) plus a field list (for the editor's right side).
import { z } from "zod";
import { CORE_FIELDS } from "../core-fields/schema";

export interface TargetField {
  /** Dotted path in the output, e.g. "start.dateTime". */
  path: string;
  type: "string" | "number" | "integer" | "boolean" | "object";
  required: boolean;
  description?: string;
}

export interface Target {
  id: TargetId;
  label: string;
  schema: z.ZodType;
  fields: TargetField[];
}

const isoDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/, "must be an ISO 8601 date-time");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date like 2027-06-12");

const coreFields = z.object(Object.fromEntries(Object.entries(CORE_FIELDS).map(([k, d]) => [k, d.schema.optional()]))).strict();

const wedsyncClient = z
  .object({
    externalId: z.string().min(1, "must not be empty"),
    source: z.string().min(1, "must not be empty"),
    partner1Name: CORE_FIELDS.partner1Name.schema,
    partner1Email: CORE_FIELDS.partner1Email.schema.optional(),
    partner1Phone: CORE_FIELDS.partner1Phone.schema.optional(),
    partner2Name: CORE_FIELDS.partner2Name.schema.optional(),
    partner2Email: CORE_FIELDS.partner2Email.schema.optional(),
    partner2Phone: CORE_FIELDS.partner2Phone.schema.optional(),
    weddingDate: CORE_FIELDS.weddingDate.schema.optional(),
    venueName: CORE_FIELDS.venueName.schema.optional(),
    guestCount: CORE_FIELDS.guestCount.schema.optional(),
    packageName: z.string().max(200).optional(),
    contractStatus: z.enum(["signed", "pending", "none"], { error: "must be signed, pending or none" }).optional(),
    notes: z.string().max(5000).optional(),
  })
  .strict();

const availabilityBlock = z
  .object({
    externalId: z.string().min(1, "must not be empty"),
    start: z.union([isoDateTime, isoDate], { error: "must be an ISO 8601 date or date-time" }),
    end: z.union([isoDateTime, isoDate], { error: "must be an ISO 8601 date or date-time" }),
    allDay: z.boolean(),
    status: z.enum(["busy", "tentative", "free"], { error: "must be busy, tentative or free" }),
    summary: z.string().max(500).optional(),
  })
  .strict();

const googleTime = z
  .object({ dateTime: isoDateTime.optional(), date: isoDate.optional(), timeZone: z.string().optional() })
  .refine((t) => Boolean(t.dateTime) !== Boolean(t.date), "needs exactly one of dateTime or date");

const googleEvent = z
  .object({
    summary: z.string().min(1, "must not be empty"),
    description: z.string().optional(),
    location: z.string().optional(),
    start: googleTime,
    end: googleTime,
    extendedProperties: z.object({ private: z.record(z.string(), z.string()) }).optional(),
  })
  .strict();

const outlookTime = z.object({
  dateTime: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, "must be a local date-time"),
  timeZone: z.string().min(1),
});

const outlookEvent = z
  .object({
    subject: z.string().min(1, "must not be empty"),
    body: z.object({ contentType: z.enum(["text", "html"]), content: z.string() }).optional(),
    start: outlookTime,
    end: outlookTime,
    location: z.object({ displayName: z.string() }).optional(),
    isAllDay: z.boolean().optional(),
    transactionId: z.string().optional(),
  })
  .strict();

export type TargetId = "core-fields" | "wedsync-client" | "availability-block" | "google-calendar-event" | "outlook-event";

/** The field list for the editor, read from a zod object (nested objects become dotted paths). */
function fieldsOf(schema: z.ZodType, prefix = ""): TargetField[] {
  const def = schema as z.ZodObject;
  if (!("shape" in def) || typeof def.shape !== "object") return [];
  const out: TargetField[] = [];
  for (const [key, raw] of Object.entries(def.shape as Record<string, z.ZodType>)) {
    const required = !raw.safeParse(undefined).success;
    const inner = raw instanceof z.ZodOptional ? (raw.unwrap() as z.ZodType) : raw;
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = fieldsOf(inner, path);
    if (nested.length) {
      out.push({ path, type: "object", required });
      out.push(...nested);
      continue;
    }
    const json = z.toJSONSchema(inner, { unrepresentable: "any" }) as { type?: string };
    const type = json.type === "integer" || json.type === "number" || json.type === "boolean" ? json.type : "string";
    out.push({ path, type, required, description: inner.description });
  }
  return out;
}

const make = (id: TargetId, label: string, schema: z.ZodType): Target => ({ id, label, schema, fields: fieldsOf(schema) });

export const TARGETS: Record<TargetId, Target> = {
  "core-fields": make("core-fields", "WedSync core fields", coreFields),
  "wedsync-client": make("wedsync-client", "WedSync client record", wedsyncClient),
  "availability-block": make("availability-block", "Vendor availability block", availabilityBlock),
  "google-calendar-event": make("google-calendar-event", "Google Calendar event (v3)", googleEvent),
  "outlook-event": make("outlook-event", "Outlook event (Microsoft Graph)", outlookEvent),
};

export function isTargetId(value: string): value is TargetId {
  return value in TARGETS;
}

export type WedsyncClient = z.infer<typeof wedsyncClient>;
export type AvailabilityBlock = z.infer<typeof availabilityBlock>;
