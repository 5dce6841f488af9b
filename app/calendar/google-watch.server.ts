// Google Calendar push notifications: a watch channel per connection whose
// notifications trigger an incremental pull instead of waiting for polling.
//
// The channel token is a random secret we hand Google; we keep only its
// sha256 (calendar_channels.secret_hash) and compare in constant time when a
// notification arrives, with the channel id and resource id. Renewing (see
// channels.server.ts) opens a new channel first, then stops the old one, so
// there is no gap.
import crypto from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import type { DbOrTx } from "../db.server";
import { calendarChannels } from "../../db/schema";
import { RENEW_AHEAD_MS } from "./channels.server";
import { openGoogleCalendar } from "./google-push.server";
import { enqueueCalendarSync } from "./consumers.server";

const NO_RETRY = { retry: false } as const;
/** What we ask for; Google may grant less (and caps at about a week for calendars). */
export const CHANNEL_TTL_MS = 7 * 24 * 3600_000;
export const NOTIFICATIONS_PATH = "/calendar/notifications/google";

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Open a new watch channel for the connection's calendar, then stop the ones it replaces. */
export async function watchGoogleCalendar(
  ctx: HubContext,
  connectionId: string,
): Promise<{ channelId: string; expiresAt: Date }> {
  const { conn, api } = await openGoogleCalendar(ctx, connectionId);
  const calendarId = typeof conn.settings.calendarId === "string" ? conn.settings.calendarId : "primary";
  const channelId = crypto.randomUUID();
  const token = crypto.randomBytes(32).toString("base64url");
  const old = await ctx.db
    .select()
    .from(calendarChannels)
    .where(and(eq(calendarChannels.connectionId, connectionId), eq(calendarChannels.status, "active")));
  // The row exists before Google is asked: its first ("sync") notification can arrive before watch() returns.
  const [row] = await ctx.db
    .insert(calendarChannels)
    .values({
      connectionId,
      provider: "google",
      channelId,
      secretHash: sha256(token),
      expiresAt: new Date(Date.now() + CHANNEL_TTL_MS),
    })
    .returning({ id: calendarChannels.id });
  let expiresAt: Date;
  try {
    const res = await api.events.watch(
      {
        calendarId,
        requestBody: {
          id: channelId,
          type: "web_hook",
          address: `${ctx.publicUrl()}${NOTIFICATIONS_PATH}`,
          token,
          expiration: String(Date.now() + CHANNEL_TTL_MS),
        },
      },
      NO_RETRY,
    );
    expiresAt = new Date(Number(res.data.expiration ?? Date.now() + CHANNEL_TTL_MS));
    await ctx.db
      .update(calendarChannels)
      .set({ resourceId: res.data.resourceId ?? null, expiresAt })
      .where(eq(calendarChannels.id, row!.id));
  } catch (err) {
    await ctx.db.delete(calendarChannels).where(eq(calendarChannels.id, row!.id));
    throw err;
  }
  for (const ch of old) await stopChannel(ctx, api, ch);
  return { channelId, expiresAt };
}

async function stopChannel(
  ctx: HubContext,
  api: Awaited<ReturnType<typeof openGoogleCalendar>>["api"],
  ch: typeof calendarChannels.$inferSelect,
): Promise<void> {
  try {
    await api.channels.stop({ requestBody: { id: ch.channelId, resourceId: ch.resourceId ?? undefined } }, NO_RETRY);
  } catch (err) {
    // Already expired or unknown at Google: it sends nothing more either way.
    ctx.log.info(
      { channelId: ch.channelId, err: err instanceof Error ? err.message : String(err) },
      "stopping a Google channel failed",
    );
  }
  await ctx.db.update(calendarChannels).set({ status: "stopped" }).where(eq(calendarChannels.id, ch.id));
}

/** Stop every live channel of a connection (disconnect). */
export async function stopGoogleChannels(ctx: HubContext, connectionId: string): Promise<number> {
  const live = await ctx.db
    .select()
    .from(calendarChannels)
    .where(and(eq(calendarChannels.connectionId, connectionId), eq(calendarChannels.status, "active")));
  if (live.length === 0) return 0;
  const { api } = await openGoogleCalendar(ctx, connectionId, { allowInactive: true });
  for (const ch of live) await stopChannel(ctx, api, ch);
  return live.length;
}

/** A connection has a channel that will not need renewing within the hour. */
export async function hasLiveGoogleChannel(db: DbOrTx, connectionId: string): Promise<boolean> {
  const rows = await db
    .select({ id: calendarChannels.id })
    .from(calendarChannels)
    .where(
      and(
        eq(calendarChannels.connectionId, connectionId),
        eq(calendarChannels.status, "active"),
        gt(calendarChannels.expiresAt, new Date(Date.now() + RENEW_AHEAD_MS)),
      ),
    );
  return rows.length > 0;
}

export interface GoogleNotificationHeaders {
  channelId: string | null;
  token: string | null;
  resourceId: string | null;
  resourceState: string | null;
}

export type NotificationVerdict =
  | { status: 200; outcome: "sync-acknowledged" | "pull-queued" }
  | { status: 403 | 404 | 400; outcome: "rejected"; reason: string };

/**
 * What to do with one notification Google POSTed. Nothing is queued unless the
 * channel is ours, live, and the token and resource id match.
 */
export async function handleGoogleNotification(ctx: HubContext, h: GoogleNotificationHeaders): Promise<NotificationVerdict> {
  if (!h.channelId || !h.resourceState) return { status: 400, outcome: "rejected", reason: "not a Google channel notification" };
  const [ch] = await ctx.db
    .select()
    .from(calendarChannels)
    .where(and(eq(calendarChannels.provider, "google"), eq(calendarChannels.channelId, h.channelId)));
  if (!ch || ch.status !== "active" || ch.expiresAt.getTime() < Date.now())
    return { status: 404, outcome: "rejected", reason: "unknown or stopped channel" };
  if (!h.token || !sameHash(sha256(h.token), ch.secretHash) || (ch.resourceId !== null && h.resourceId !== ch.resourceId))
    return { status: 403, outcome: "rejected", reason: "channel token or resource does not match" };
  if (h.resourceState === "sync") return { status: 200, outcome: "sync-acknowledged" };
  // "exists" / "not_exists": something changed in the calendar; pull it (a burst coalesces on the job key).
  await enqueueCalendarSync(ctx.db, ch.connectionId, { delayMs: 500 });
  return { status: 200, outcome: "pull-queued" };
}
