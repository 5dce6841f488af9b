// What a core-field change causes for calendars: every active calendar
// connection (Google, Outlook, CalDAV) of every supplier connected to the
// couple gets a sync job, queued in the change's own transaction. The job key
// coalesces bursts (an import touching 100 couples queues one sync per
// connection, not 100).
import { and, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { connections, supplierCouples } from "../../db/schema";
import { enqueueJobs } from "../jobs/enqueue.server";
import { registerEventConsumer } from "../core-fields/consumers.server";
import { calendarConnectorIds } from "./registry.server";
import { boostedConnections, WEDDING_DAY_PRIORITY_BOOST } from "../wedding-day/mode.server";

/** A short wait so that a burst of writes is pushed by one run ("replace" moves run_at on each enqueue). */
export const CALENDAR_SYNC_DELAY_MS = 2_000;
/** After this many 429/503 answers in a row the job fails and graphile-worker's own retries take over. */
export const MAX_BACKOFF_ATTEMPTS = 8;

export const calendarSyncJobKey = (connectionId: string) => `calendar-sync:${connectionId}`;

/** The provider's Retry-After when it gave one, else exponential from 2 s (capped at 5 min), with ±20% jitter. */
export function backoffDelayMs(attempt: number, retryAfterSeconds: number | undefined, random = Math.random): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds, 3600) * 1000;
  const base = Math.min(2_000 * 2 ** attempt, 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface CalendarSyncEnqueue {
  delayMs?: number;
  pull?: boolean;
  backoff?: number;
  /** "preserve_run_at": do not postpone a sync that is already waiting (the sweep). Default "replace". */
  keyMode?: "replace" | "preserve_run_at";
}

export async function enqueueCalendarSync(db: DbOrTx, connectionId: string, opts: CalendarSyncEnqueue = {}): Promise<void> {
  await enqueueCalendarSyncs(db, [connectionId], opts);
}

/** enqueueCalendarSync for many connections: one wedding-day lookup and one add_jobs call for all of them. */
export async function enqueueCalendarSyncs(
  db: DbOrTx,
  connectionIds: readonly string[],
  opts: CalendarSyncEnqueue = {},
): Promise<void> {
  if (connectionIds.length === 0) return;
  const delayMs = opts.delayMs ?? CALENDAR_SYNC_DELAY_MS;
  const runAt = delayMs > 0 ? new Date(Date.now() + delayMs) : undefined;
  const boosted = await boostedConnections(db, connectionIds);
  await enqueueJobs(
    db,
    "sync_calendar",
    connectionIds.map((connectionId) => ({
      payload: { connectionId, pull: opts.pull ?? true, backoff: opts.backoff ?? 0 },
      jobKey: calendarSyncJobKey(connectionId),
      runAt,
      priority: boosted.has(connectionId) ? -WEDDING_DAY_PRIORITY_BOOST : 0,
    })),
    { jobKeyMode: opts.keyMode ?? "replace" },
  );
}

/** The active calendar connections of the suppliers connected to a couple. */
export async function calendarConnectionsForCouple(db: DbOrTx, coupleId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: connections.id })
    .from(connections)
    .innerJoin(supplierCouples, eq(supplierCouples.supplierId, connections.supplierId))
    .where(
      and(
        eq(supplierCouples.coupleId, coupleId),
        inArray(connections.connectorId, calendarConnectorIds()),
        eq(connections.status, "active"),
      ),
    );
  return rows.map((r) => r.id);
}

registerEventConsumer(async (tx, event) => {
  if (!event.type.startsWith("core_fields.")) return;
  await enqueueCalendarSyncs(tx, await calendarConnectionsForCouple(tx, event.coupleId));
});

/** Queue a sync of every active calendar connection, spread over a minute so providers see no burst. */
export async function enqueueCalendarSweep(db: DbOrTx, spreadMs = 60_000): Promise<number> {
  const rows = await db
    .select({ id: connections.id })
    .from(connections)
    .where(and(inArray(connections.connectorId, calendarConnectorIds()), eq(connections.status, "active")));
  for (const [i, row] of rows.entries())
    await enqueueCalendarSync(db, row.id, {
      delayMs: Math.round((spreadMs * i) / Math.max(rows.length, 1)),
      keyMode: "preserve_run_at",
    });
  return rows.length;
}
