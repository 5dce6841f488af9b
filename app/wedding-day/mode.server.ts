// Wedding-day mode: a wedding is in it from 48 hours before its date begins,
// in the couple's own time zone, until that day ends there; ops may force it
// on or off by hand (couples.wedding_day_override, audited). Everything that
// protects such a wedding asks here: job priority, the brief's call policy,
// pre-warm, and the throttling of non-critical work.
import { and, eq, gte, inArray, isNotNull, lte, or, sql } from "drizzle-orm";
import { connections, couples, coreFields, supplierCouples } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import { recordAudit, type Actor } from "../audit/audit.server";
import { NotFoundError } from "../errors";
import { isTimeZone, zonedToInstant } from "../time/zoned";

export const WEDDING_DAY_LEAD_HOURS = 48;
/** graphile-worker runs lower priorities first; a wedding-day job goes ahead of everything routine. */
export const WEDDING_DAY_PRIORITY_BOOST = 100;
/** The brief's "maximum reliability" settings for calls made on a wedding-day couple's behalf. */
export const WEDDING_DAY_CALL_POLICY = { timeoutMs: 30_000, retries: 5, connectionRetries: 10 } as const;
/** Jobs at or below this priority are a wedding's critical work; while any wait, bulk work yields. */
export const CRITICAL_PRIORITY = -WEDDING_DAY_PRIORITY_BOOST;

export interface WeddingWindow {
  start: Date;
  end: Date;
}

export type Override = boolean | null;

export interface WeddingDayState {
  active: boolean;
  /** "auto": from the date; "on"/"off": forced by ops. */
  source: "auto" | "on" | "off";
  window: WeddingWindow | null;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** From local midnight 48 h before the wedding date to the end of that day, in `timeZone` (UTC if unknown). */
export function weddingDayWindow(weddingDate: unknown, timeZone: unknown): WeddingWindow | null {
  const m = typeof weddingDate === "string" ? ISO_DATE.exec(weddingDate) : null;
  if (!m) return null;
  const tz = typeof timeZone === "string" && isTimeZone(timeZone) ? timeZone : "UTC";
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dayStart = zonedToInstant({ y, m: mo, d, h: 0, min: 0 }, tz);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  const dayEnd = zonedToInstant({ y: next.getUTCFullYear(), m: next.getUTCMonth() + 1, d: next.getUTCDate(), h: 0, min: 0 }, tz);
  return { start: new Date(dayStart.getTime() - WEDDING_DAY_LEAD_HOURS * 3600_000), end: dayEnd };
}

/** Pure: is the wedding in wedding-day mode at `now`? */
export function weddingDayState(now: Date, window: WeddingWindow | null, override: Override): WeddingDayState {
  if (override === true) return { active: true, source: "on", window };
  if (override === false) return { active: false, source: "off", window };
  const active = window !== null && now >= window.start && now < window.end;
  return { active, source: "auto", window };
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

export interface WeddingDayCouple {
  coupleId: string;
  displayName: string;
  weddingDate: string | null;
  timeZone: string;
  state: WeddingDayState;
}

/**
 * Every couple in wedding-day mode at `now`: forced on, or dated within a few
 * days either side (the index on the date narrows it; the window decides).
 */
export async function weddingDayCouples(db: DbOrTx, now = new Date()): Promise<WeddingDayCouple[]> {
  const dateExpr = sql<string>`(${coreFields.fields}->>'weddingDate')`;
  const rows = await db
    .select({ id: couples.id, name: couples.displayName, override: couples.weddingDayOverride, fields: coreFields.fields })
    .from(couples)
    .innerJoin(coreFields, eq(coreFields.coupleId, couples.id))
    .where(
      or(
        eq(couples.weddingDayOverride, true),
        and(
          isNotNull(dateExpr),
          // Time zones reach ±14 h, the lead is 48 h: a day's margin each side is enough.
          gte(dateExpr, isoDay(now.getTime() - 2 * 86_400_000)),
          lte(dateExpr, isoDay(now.getTime() + (WEDDING_DAY_LEAD_HOURS / 24 + 2) * 86_400_000)),
        ),
      ),
    );
  return rows
    .map((r) => toCouple(r, now))
    .filter((c) => c.state.active)
    .sort((a, b) => (a.state.window?.end.getTime() ?? 0) - (b.state.window?.end.getTime() ?? 0));
}

function toCouple(
  r: { id: string; name: string; override: boolean | null; fields: Record<string, unknown> },
  now: Date,
): WeddingDayCouple {
  const date = typeof r.fields.weddingDate === "string" ? r.fields.weddingDate : null;
  const tz = typeof r.fields.timezone === "string" && isTimeZone(r.fields.timezone) ? r.fields.timezone : "UTC";
  return {
    coupleId: r.id,
    displayName: r.name,
    weddingDate: date,
    timeZone: tz,
    state: weddingDayState(now, weddingDayWindow(date, tz), r.override),
  };
}

/** One couple's state (null when the couple does not exist). */
export async function weddingDayOf(db: DbOrTx, coupleId: string, now = new Date()): Promise<WeddingDayCouple | null> {
  const [r] = await db
    .select({ id: couples.id, name: couples.displayName, override: couples.weddingDayOverride, fields: coreFields.fields })
    .from(couples)
    .leftJoin(coreFields, eq(coreFields.coupleId, couples.id))
    .where(eq(couples.id, coupleId));
  return r ? toCouple({ ...r, fields: r.fields ?? {} }, now) : null;
}

/** The graphile-worker priority for a job done for `coupleId`: boosted while the couple is in wedding-day mode. */
export async function jobPriorityFor(db: DbOrTx, coupleId: string | null | undefined, base = 0): Promise<number> {
  if (!coupleId) return base;
  const wd = await weddingDayOf(db, coupleId);
  return wd?.state.active ? base - WEDDING_DAY_PRIORITY_BOOST : base;
}

/**
 * A vendor connection's jobs (calendar syncs) are boosted while any couple its
 * supplier serves is in wedding-day mode: that vendor's calendar matters today.
 */
export async function connectionPriorityFor(db: DbOrTx, connectionId: string, base = 0): Promise<number> {
  return (await boostedConnections(db, [connectionId])).has(connectionId) ? base - WEDDING_DAY_PRIORITY_BOOST : base;
}

/** Which of these connections serve a couple in wedding-day mode (one lookup for any number of them). */
export async function boostedConnections(db: DbOrTx, connectionIds: readonly string[]): Promise<Set<string>> {
  if (connectionIds.length === 0) return new Set();
  const live = await weddingDayCouples(db);
  if (live.length === 0) return new Set();
  const hits = await db
    .selectDistinct({ id: connections.id })
    .from(connections)
    .innerJoin(supplierCouples, eq(supplierCouples.supplierId, connections.supplierId))
    .where(
      and(
        inArray(connections.id, [...connectionIds]),
        inArray(
          supplierCouples.coupleId,
          live.map((c) => c.coupleId),
        ),
      ),
    );
  return new Set(hits.map((h) => h.id));
}

/** Ops force the mode on or off, or give it back to the date ("auto"); audited with before and after. */
export async function setWeddingDayOverride(
  db: DbOrTx,
  coupleId: string,
  mode: "on" | "off" | "auto",
  actor: Actor,
): Promise<WeddingDayCouple> {
  const value: Override = mode === "auto" ? null : mode === "on";
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ override: couples.weddingDayOverride })
      .from(couples)
      .where(eq(couples.id, coupleId))
      .for("update");
    if (!before) throw new NotFoundError(`No couple with id ${coupleId}.`);
    await tx.update(couples).set({ weddingDayOverride: value }).where(eq(couples.id, coupleId));
    await recordAudit(tx, actor, {
      action: "wedding_day.override",
      entityType: "couple",
      entityId: coupleId,
      before: { override: overrideName(before.override) },
      after: { override: mode },
    });
    const after = await weddingDayOf(tx, coupleId);
    return after!;
  });
}

const overrideName = (v: Override) => (v === null ? "auto" : v ? "on" : "off");

/** Is a wedding's critical work waiting to run? Bulk work (imports, sweeps) yields while it is. */
export async function criticalWorkPending(db: DbOrTx, now = new Date()): Promise<boolean> {
  const res = await db.execute<{ pending: boolean }>(sql`select exists (
      select 1 from graphile_worker._private_jobs
      where priority <= ${CRITICAL_PRIORITY} and run_at <= ${now.toISOString()}::timestamptz
        and locked_at is null and attempts < max_attempts
    ) as pending`);
  return res.rows[0]?.pending === true;
}
