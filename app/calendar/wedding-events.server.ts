// The wedding events a supplier should have in its external calendar: one per
// connected couple with a wedding date, each under a stable key
// ("<coupleId>:ceremony"), its body built by the active
// `core-fields-to-google-event` mapping (the DB's published version, else the
// file in mappings/).
import crypto from "node:crypto";
import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { coreFields, supplierCouples, suppliers } from "../../db/schema";
import { NotFoundError } from "../errors";
import { compileMapping, runMapping, type FieldErrors } from "../mapping/engine";
import { activeMapping } from "../mapping/store.server";
import { readMappingFiles } from "../mapping/files.server";
import type { TargetId } from "../mapping/targets";

export const GOOGLE_EVENT_MAPPING = "core-fields-to-google-event";
export const OUTLOOK_EVENT_MAPPING = "core-fields-to-outlook-event";

export interface CalendarMapping {
  expression: string;
  target: TargetId;
  /** "db" = the active published version, "file" = mappings/<slug>/expression.jsonata. */
  origin: "db" | "file";
}

export interface DesiredEvent {
  /** Stable across syncs: "<coupleId>:<kind>". */
  key: string;
  coupleId: string;
  /** The provider event body (Google Calendar v3 event or Microsoft Graph event fields, per the mapping). */
  body: Record<string, unknown>;
  /** sha256 of the body's canonical JSON: what decides "changed". */
  hash: string;
}

export interface SkippedEvent {
  key: string;
  coupleId: string;
  reason: "no-wedding-date" | "invalid-output";
  errors?: FieldErrors;
}

export interface SupplierForEvents {
  id: string;
  name: string;
  kind: string;
}

/** The mapping to run: the DB's active published version when there is one, else the file. */
export async function loadCalendarMapping(db: DbOrTx, slug = GOOGLE_EVENT_MAPPING): Promise<CalendarMapping> {
  try {
    const m = await activeMapping(db, slug);
    return { expression: m.expression, target: m.target, origin: "db" };
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const file = readMappingFiles().find((m) => m.slug === slug);
  if (!file) throw new NotFoundError(`Mapping "${slug}" has no published version and no file in mappings/`);
  return { expression: file.expression, target: file.target, origin: "file" };
}

/** JSON with object keys sorted, so equal bodies hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const payloadHash = (body: unknown): string => crypto.createHash("sha256").update(canonicalJson(body)).digest("hex");

export const ceremonyKey = (coupleId: string) => `${coupleId}:ceremony`;

/** The events one supplier should have for one couple (today: the ceremony, when there is a wedding date). */
export async function weddingEventsFor(
  mapping: CalendarMapping,
  supplier: SupplierForEvents,
  couple: { id: string; fields: Record<string, unknown> },
): Promise<{ events: DesiredEvent[]; skipped: SkippedEvent[] }> {
  const key = ceremonyKey(couple.id);
  if (typeof couple.fields.weddingDate !== "string" || couple.fields.weddingDate === "")
    return { events: [], skipped: [{ key, coupleId: couple.id, reason: "no-wedding-date" }] };
  const input = {
    coupleId: couple.id,
    coreFields: couple.fields,
    supplier: { name: supplier.name, kind: supplier.kind },
    eventKey: key,
  };
  const { output, errors } = await runMapping(compileMapping(mapping.expression), input, mapping.target);
  if (errors) return { events: [], skipped: [{ key, coupleId: couple.id, reason: "invalid-output", errors }] };
  const body = output as Record<string, unknown>;
  return { events: [{ key, coupleId: couple.id, body, hash: payloadHash(body) }], skipped: [] };
}

/**
 * Every event the supplier should have, over all its connected couples. `mapping`
 * is a loaded mapping or the slug of one (default: the Google event mapping).
 */
export async function supplierWeddingEvents(
  db: DbOrTx,
  supplierId: string,
  mapping?: CalendarMapping | string,
): Promise<{ events: DesiredEvent[]; skipped: SkippedEvent[] }> {
  const [supplier] = await db
    .select({ id: suppliers.id, name: suppliers.name, kind: suppliers.kind })
    .from(suppliers)
    .where(eq(suppliers.id, supplierId));
  if (!supplier) throw new NotFoundError(`No supplier ${supplierId}`);
  const m = typeof mapping === "object" ? mapping : await loadCalendarMapping(db, mapping);
  const rows = await db
    .select({ coupleId: supplierCouples.coupleId, fields: coreFields.fields })
    .from(supplierCouples)
    .innerJoin(coreFields, eq(coreFields.coupleId, supplierCouples.coupleId))
    .where(eq(supplierCouples.supplierId, supplierId))
    .orderBy(asc(supplierCouples.coupleId));
  const events: DesiredEvent[] = [];
  const skipped: SkippedEvent[] = [];
  for (const row of rows) {
    const r = await weddingEventsFor(m, supplier, { id: row.coupleId, fields: row.fields });
    events.push(...r.events);
    skipped.push(...r.skipped);
  }
  return { events, skipped };
}
