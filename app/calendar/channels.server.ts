// Push channels (Google watch channels, Graph subscriptions) expire; one
// renewal job per connection runs an hour before the newest live channel does.
import { and, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { calendarChannels } from "../../db/schema";
import { enqueueJob } from "../jobs/enqueue.server";

/** Renew this long before a channel expires. */
export const RENEW_AHEAD_MS = 3600_000;

export const channelRenewJobKey = (connectionId: string) => `calendar-channel:${connectionId}`;

/** Schedule (or move) the connection's renewal job; no live channel, no job. */
export async function scheduleChannelRenewal(db: DbOrTx, connectionId: string): Promise<Date | null> {
  const [row] = await db
    .select({ expiresAt: sql<Date | null>`max(${calendarChannels.expiresAt})` })
    .from(calendarChannels)
    .where(and(eq(calendarChannels.connectionId, connectionId), eq(calendarChannels.status, "active")));
  if (!row?.expiresAt) return null;
  const expiresAt = new Date(row.expiresAt);
  await enqueueJob(
    db,
    "renew_calendar_channel",
    { connectionId },
    {
      jobKey: channelRenewJobKey(connectionId),
      jobKeyMode: "replace",
      runAt: new Date(Math.max(Date.now(), expiresAt.getTime() - RENEW_AHEAD_MS)),
    },
  );
  return expiresAt;
}
