// What a core-field change causes for calendars: every active google-calendar
// connection of every supplier connected to the couple gets a sync job, queued
// in the change's own transaction. The job key coalesces bursts (an import
// touching 100 couples queues one sync per connection, not 100).
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { connections, supplierCouples } from "../../db/schema";
import { enqueueJob } from "../jobs/enqueue.server";
import { registerEventConsumer } from "../core-fields/consumers.server";

/** A short wait so that a burst of writes is pushed by one run ("replace" moves run_at on each enqueue). */
export const CALENDAR_SYNC_DELAY_MS = 2_000;

export const calendarSyncJobKey = (connectionId: string) => `calendar-sync:${connectionId}`;

export async function enqueueCalendarSync(db: DbOrTx, connectionId: string, delayMs = CALENDAR_SYNC_DELAY_MS): Promise<void> {
  await enqueueJob(
    db,
    "sync_google_calendar",
    { connectionId },
    {
      jobKey: calendarSyncJobKey(connectionId),
      jobKeyMode: "replace",
      runAt: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined,
    },
  );
}

/** The active google-calendar connections of the suppliers connected to a couple. */
export async function calendarConnectionsForCouple(db: DbOrTx, coupleId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: connections.id })
    .from(connections)
    .innerJoin(supplierCouples, eq(supplierCouples.supplierId, connections.supplierId))
    .where(
      and(
        eq(supplierCouples.coupleId, coupleId),
        eq(connections.connectorId, "google-calendar"),
        eq(connections.status, "active"),
      ),
    );
  return rows.map((r) => r.id);
}

registerEventConsumer(async (tx, event) => {
  if (!event.type.startsWith("core_fields.")) return;
  for (const connectionId of await calendarConnectionsForCouple(tx, event.coupleId)) await enqueueCalendarSync(tx, connectionId);
});
