// Reading the audit trail for the console: filters parsed with zod from the
// query string (a bad value is a 400 with a message, never a silent "any"),
// keyset pages by id (stable while entries keep arriving), and the filtered
// rows as a CSV stream in keyset batches (memory stays flat however many).
import { and, asc, desc, eq, gt, gte, ilike, lt, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import { auditLog } from "../../db/schema";
import { csvRecord } from "./csv";
import { ACTOR_TYPES, FILTER_KEYS, type FilterValues } from "./filters";

export const DEFAULT_PAGE_SIZE = 100;
const EXPORT_BATCH = 500;

export type AuditRow = typeof auditLog.$inferSelect;

/**
 * "2026-05-01", "2026-05-01T14:30", "2026-05-01T14:30:15(.123)" with an
 * optional Z or ±hh:mm; no zone means UTC. Returns the instant and the unit
 * written, so "to" can include the whole minute or day it names.
 */
const WHEN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
function parseWhen(raw: string): { at: Date; unitMs: number } | null {
  const m = WHEN.exec(raw);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)] as const;
  const utc = new Date(Date.UTC(...parts));
  // Date.UTC rolls 2026-02-30 over to March: refuse instead of guessing.
  if (utc.getUTCMonth() !== parts[1] || utc.getUTCDate() !== parts[2] || parts[3] > 23 || parts[4] > 59 || parts[5] > 59)
    return null;
  let ms = utc.getTime() + (frac ? Math.round(Number(frac) * 1000) : 0);
  if (zone && zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    ms -= (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  const unitMs = frac ? 1 : s !== undefined ? 1000 : h !== undefined ? 60_000 : 86_400_000;
  return { at: new Date(ms), unitMs };
}

/** Form fields arrive as strings; an empty one means "not set". */
const field = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" ? (v.trim() === "" ? undefined : v.trim()) : v), schema.optional());

const when = (name: string) =>
  z.string().transform((raw, ctx) => {
    const parsed = parseWhen(raw);
    if (!parsed) {
      ctx.addIssue({
        code: "custom",
        message: `${name} must be a date like 2026-05-01 or a date and time like 2026-05-01T14:30 (UTC unless it says +02:00)`,
      });
      return z.NEVER;
    }
    return parsed;
  });

const cursor = z.coerce.number({ error: "must be an entry id" }).int("must be an entry id").positive("must be an entry id");

export const auditFilterSchema = z
  .object({
    actorType: field(z.enum(ACTOR_TYPES, { error: `must be one of ${ACTOR_TYPES.join(", ")}` })),
    actor: field(z.string().max(200, "must be at most 200 characters")),
    action: field(
      z
        .string()
        .max(100, "must be at most 100 characters")
        .regex(/^[a-z0-9_.:-]+$/i, "must be an action like core_fields.update, or its prefix like core_fields"),
    ),
    entityType: field(z.string().max(100, "must be at most 100 characters")),
    entityId: field(z.string().max(200, "must be at most 200 characters")),
    from: field(when("from")),
    to: field(when("to")),
    before: field(cursor),
    after: field(cursor),
    limit: field(z.coerce.number({ error: "must be a number" }).int().min(1, "must be 1 to 500").max(500, "must be 1 to 500")),
  })
  .superRefine((f, ctx) => {
    if (f.from && f.to && f.from.at.getTime() >= f.to.at.getTime() + f.to.unitMs)
      ctx.addIssue({ code: "custom", path: ["to"], message: "must not be before from" });
    if (f.before && f.after) ctx.addIssue({ code: "custom", path: ["after"], message: "cannot be combined with before" });
  });

export type AuditFilters = z.output<typeof auditFilterSchema>;

export type ParsedFilters =
  { ok: true; filters: AuditFilters; values: FilterValues } | { ok: false; message: string; values: FilterValues };

export function parseAuditFilters(params: URLSearchParams): ParsedFilters {
  const raw = Object.fromEntries(
    [...FILTER_KEYS, "before", "after", "limit"].map((k) => [k, params.get(k) ?? undefined] as const),
  ) as Record<string, string | undefined>;
  const values: FilterValues = {};
  for (const k of FILTER_KEYS) if (raw[k]?.trim()) values[k] = raw[k]!.trim();
  const parsed = auditFilterSchema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) => {
        const name = String(i.path[0] ?? "filter");
        // The "from"/"to" messages already name the field.
        return i.message.startsWith(name) ? i.message : `${name} ${i.message}`;
      })
      .join("; ");
    return { ok: false, message: `These filters cannot be used: ${message}.`, values };
  }
  return { ok: true, filters: parsed.data, values };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function conditions(f: AuditFilters): SQL[] {
  const out: SQL[] = [];
  if (f.actorType) out.push(eq(auditLog.actorType, f.actorType));
  // Part of the label (an email, a token name), or the exact id of the user or token.
  if (f.actor) out.push(or(ilike(auditLog.actorLabel, `%${likeEscape(f.actor)}%`), eq(auditLog.actorId, f.actor))!);
  // "mapping.publish" exactly, or "mapping" for every mapping.* action.
  if (f.action) out.push(or(eq(auditLog.action, f.action), sql`${auditLog.action} like ${`${likeEscape(f.action)}.%`}`)!);
  if (f.entityType) out.push(eq(auditLog.entityType, f.entityType));
  if (f.entityId) out.push(eq(auditLog.entityId, f.entityId));
  if (f.from) out.push(gte(auditLog.at, f.from.at));
  // "to" includes the whole minute (or day, or second) it names.
  if (f.to) out.push(lt(auditLog.at, new Date(f.to.at.getTime() + f.to.unitMs)));
  return out;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Pass as ?before= for older entries; null on the last page. */
  olderThan: number | null;
  /** Pass as ?after= for newer entries; null on the first page. */
  newerThan: number | null;
}

/** Newest first, `limit` per page: ?before=<id> walks back, ?after=<id> walks forward. */
export async function listAuditPage(db: DbOrTx, f: AuditFilters): Promise<AuditPage> {
  const limit = f.limit ?? DEFAULT_PAGE_SIZE;
  const where = conditions(f);
  let rows: AuditRow[];
  let more: boolean;
  if (f.after) {
    const up = await db
      .select()
      .from(auditLog)
      .where(and(...where, gt(auditLog.id, f.after)))
      .orderBy(asc(auditLog.id))
      .limit(limit + 1);
    more = up.length > limit;
    rows = up.slice(0, limit).reverse();
  } else {
    const down = await db
      .select()
      .from(auditLog)
      .where(and(...where, f.before ? lt(auditLog.id, f.before) : undefined))
      .orderBy(desc(auditLog.id))
      .limit(limit + 1);
    more = down.length > limit;
    rows = down.slice(0, limit);
  }
  const first = rows[0]?.id;
  const last = rows.at(-1)?.id;
  const exists = async (cond: SQL) =>
    (
      await db
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(and(...where, cond))
        .limit(1)
    ).length > 0;
  // Moving one way we know from the extra row whether more lie ahead; the other way needs one look.
  const older = f.after ? (last !== undefined ? await exists(lt(auditLog.id, last)) : false) : more;
  const newer = f.after ? more : f.before && first !== undefined ? await exists(gt(auditLog.id, first)) : false;
  return {
    rows,
    olderThan: older && last !== undefined ? last : null,
    newerThan: newer && first !== undefined ? first : null,
  };
}

export const CSV_HEADER = [
  "id",
  "at",
  "actor_type",
  "actor_id",
  "actor_label",
  "action",
  "entity_type",
  "entity_id",
  "before",
  "after",
] as const;

const json = (v: unknown) => (v === null || v === undefined ? "" : JSON.stringify(v));

export function auditCsvRecord(r: AuditRow): string {
  return csvRecord([
    String(r.id),
    r.at.toISOString(),
    r.actorType,
    r.actorId ?? "",
    r.actorLabel,
    r.action,
    r.entityType,
    r.entityId ?? "",
    json(r.before),
    json(r.after),
  ]);
}

/** Every entry the filters match (newest first, ignoring page and cursor), as CSV with a header line. */
export function auditCsvStream(db: DbOrTx, f: AuditFilters): ReadableStream<Uint8Array> {
  const where = conditions(f);
  const encoder = new TextEncoder();
  let cursorId: number | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvRecord(CSV_HEADER)));
        return;
      }
      const batch = await db
        .select()
        .from(auditLog)
        .where(and(...where, cursorId === null ? undefined : lt(auditLog.id, cursorId)))
        .orderBy(desc(auditLog.id))
        .limit(EXPORT_BATCH);
      if (batch.length === 0) {
        controller.close();
        return;
      }
      cursorId = batch.at(-1)!.id;
      controller.enqueue(encoder.encode(batch.map(auditCsvRecord).join("")));
      if (batch.length < EXPORT_BATCH) controller.close();
    },
  });
}
