// Graph change notifications for Outlook calendar connections: a subscription
// on /me/events per connection, so a vendor's edit in Outlook queues a sync
// within seconds instead of waiting for the next scheduled pull.
//
// Each subscription carries a random clientState that Graph echoes in every
// notification; only its sha256 is stored (calendar_channels.secret_hash), next
// to Graph's subscription id (channel_id) and expiry. A notification is acted
// on only when its clientState matches the channel's, compared in constant time.
import { and, eq, lt } from "drizzle-orm";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { calendarChannels } from "../../db/schema";
import { randomToken, safeEqual, sha256 } from "../crypto/secrets.server";
import { enqueueCalendarSync } from "./consumers.server";
import { graphStatus, openOutlookCalendar, type GraphOptions } from "./outlook-graph.server";

export const GRAPH_NOTIFICATION_PATH = "/calendar/notifications/microsoft";
/** Graph allows at most 4230 minutes for Outlook resources; stay a little under. */
const SUBSCRIPTION_MINUTES = 4200;
/** Renew subscriptions expiring within this window. */
export const RENEW_WITHIN_MS = 12 * 3600 * 1000;

const subscriptionResponse = z.looseObject({ id: z.string().min(1), expirationDateTime: z.string() });

const expiryFrom = (now: number) => new Date(now + SUBSCRIPTION_MINUTES * 60_000);

export interface GraphSubscriptionOptions extends GraphOptions {
  /** Where Graph posts notifications; default ctx.publicUrl() + GRAPH_NOTIFICATION_PATH. */
  notificationUrl?: string;
}

/**
 * Create the connection's subscription (Graph first validates notificationUrl
 * with a handshake, so the hub must be reachable). An active, unexpired channel
 * is kept: calling this again is a no-op.
 */
export async function createGraphSubscription(
  ctx: HubContext,
  connectionId: string,
  opts: GraphSubscriptionOptions = {},
): Promise<typeof calendarChannels.$inferSelect> {
  const [existing] = await ctx.db
    .select()
    .from(calendarChannels)
    .where(
      and(
        eq(calendarChannels.connectionId, connectionId),
        eq(calendarChannels.provider, "microsoft"),
        eq(calendarChannels.status, "active"),
      ),
    );
  if (existing && existing.expiresAt.getTime() > Date.now()) return existing;

  const cal = await openOutlookCalendar(ctx, connectionId, opts);
  const clientState = randomToken(32);
  const created = subscriptionResponse.parse(
    await cal.request("/subscriptions").post({
      changeType: "created,updated,deleted",
      notificationUrl: opts.notificationUrl ?? `${ctx.publicUrl()}${GRAPH_NOTIFICATION_PATH}`,
      resource: "me/events",
      expirationDateTime: expiryFrom(Date.now()).toISOString(),
      clientState,
    }),
  );
  if (existing) await ctx.db.update(calendarChannels).set({ status: "stopped" }).where(eq(calendarChannels.id, existing.id));
  const [row] = await ctx.db
    .insert(calendarChannels)
    .values({
      connectionId,
      provider: "microsoft",
      channelId: created.id,
      secretHash: sha256(clientState),
      expiresAt: new Date(created.expirationDateTime),
    })
    .returning();
  return row!;
}

/** Has the connection an active subscription that does not need renewing yet? */
export async function graphSubscriptionIsLive(ctx: HubContext, connectionId: string): Promise<boolean> {
  const [channel] = await ctx.db
    .select({ expiresAt: calendarChannels.expiresAt })
    .from(calendarChannels)
    .where(
      and(
        eq(calendarChannels.connectionId, connectionId),
        eq(calendarChannels.provider, "microsoft"),
        eq(calendarChannels.status, "active"),
      ),
    );
  return Boolean(channel && channel.expiresAt.getTime() > Date.now() + RENEW_WITHIN_MS);
}

/**
 * Extend subscriptions expiring within `withinMs`; one Graph no longer knows
 * (404) is created again. Returns how many were renewed or recreated.
 */
export async function renewGraphSubscriptions(
  ctx: HubContext,
  opts: GraphSubscriptionOptions & { withinMs?: number; connectionId?: string } = {},
): Promise<number> {
  const horizon = new Date(Date.now() + (opts.withinMs ?? RENEW_WITHIN_MS));
  const due = await ctx.db
    .select()
    .from(calendarChannels)
    .where(
      and(
        eq(calendarChannels.provider, "microsoft"),
        eq(calendarChannels.status, "active"),
        lt(calendarChannels.expiresAt, horizon),
        ...(opts.connectionId ? [eq(calendarChannels.connectionId, opts.connectionId)] : []),
      ),
    );
  let renewed = 0;
  for (const channel of due) {
    const cal = await openOutlookCalendar(ctx, channel.connectionId, opts);
    try {
      const res = subscriptionResponse.parse(
        await cal
          .request(`/subscriptions/${encodeURIComponent(channel.channelId)}`)
          .patch({ expirationDateTime: expiryFrom(Date.now()).toISOString() }),
      );
      await ctx.db
        .update(calendarChannels)
        .set({ expiresAt: new Date(res.expirationDateTime) })
        .where(eq(calendarChannels.id, channel.id));
    } catch (err) {
      if (graphStatus(err) !== 404) throw err;
      await ctx.db.update(calendarChannels).set({ status: "stopped" }).where(eq(calendarChannels.id, channel.id));
      await createGraphSubscription(ctx, channel.connectionId, opts);
    }
    renewed++;
  }
  return renewed;
}

/** Delete the connection's subscriptions at Graph (disconnect). Returns how many were active. */
export async function deleteGraphSubscriptions(ctx: HubContext, connectionId: string, opts: GraphOptions = {}): Promise<number> {
  const active = await ctx.db
    .select()
    .from(calendarChannels)
    .where(
      and(
        eq(calendarChannels.connectionId, connectionId),
        eq(calendarChannels.provider, "microsoft"),
        eq(calendarChannels.status, "active"),
      ),
    );
  if (!active.length) return 0;
  const cal = await openOutlookCalendar(ctx, connectionId, { ...opts, allowInactive: true });
  for (const channel of active) {
    try {
      await cal.request(`/subscriptions/${encodeURIComponent(channel.channelId)}`).delete();
    } catch (err) {
      if (graphStatus(err) !== 404) throw err; // expired or already deleted at Graph
    }
    await ctx.db.update(calendarChannels).set({ status: "stopped" }).where(eq(calendarChannels.id, channel.id));
  }
  return active.length;
}

// ---- receiving notifications ------------------------------------------------

// Graph's change notification collection; only what we act on is required.
const notificationBody = z.object({
  value: z
    .array(
      z.looseObject({
        subscriptionId: z.string().min(1).max(200),
        clientState: z.string().max(256).nullish(),
        changeType: z.string().optional(),
        resource: z.string().optional(),
        subscriptionExpirationDateTime: z.string().optional(),
        tenantId: z.string().optional(),
      }),
    )
    .min(1)
    .max(1000),
});

export interface GraphNotificationAnswer {
  status: 200 | 202 | 400 | 403;
  contentType: "text/plain";
  body: string;
  /** Connections a sync was queued for. */
  queued: string[];
}

const answer = (status: GraphNotificationAnswer["status"], body: string, queued: string[] = []): GraphNotificationAnswer => ({
  status,
  contentType: "text/plain",
  body,
  queued,
});

/**
 * What to answer Graph. A validation request (`?validationToken=`) is echoed as
 * text/plain. A notification batch is accepted (202) only when every entry names
 * an active subscription of ours with the right clientState; then a sync is
 * queued for each connection concerned. One bad entry rejects the whole batch
 * (403) and nothing is queued: a forged batch must not be able to ride on a
 * genuine one.
 */
export async function handleGraphNotification(
  ctx: HubContext,
  input: { validationToken?: string | null; body?: unknown },
): Promise<GraphNotificationAnswer> {
  if (typeof input.validationToken === "string" && input.validationToken !== "") {
    // Graph's tokens are short; an absurd one is not Graph.
    if (input.validationToken.length > 1024) return answer(400, "validationToken too long");
    return answer(200, input.validationToken);
  }
  const parsed = notificationBody.safeParse(input.body);
  if (!parsed.success) return answer(400, "not a Graph change notification");

  const connectionIds = new Set<string>();
  for (const n of parsed.data.value) {
    const [channel] = await ctx.db
      .select()
      .from(calendarChannels)
      .where(
        and(
          eq(calendarChannels.provider, "microsoft"),
          eq(calendarChannels.channelId, n.subscriptionId),
          eq(calendarChannels.status, "active"),
        ),
      );
    // Hash first so an unknown subscription costs the same as a wrong clientState.
    const presented = sha256(n.clientState ?? "");
    if (!channel || !n.clientState || !safeEqual(presented, channel.secretHash)) {
      ctx.log.warn({ subscriptionId: n.subscriptionId, known: Boolean(channel) }, "graph notification rejected");
      return answer(403, "rejected");
    }
    connectionIds.add(channel.connectionId);
  }
  for (const connectionId of connectionIds) await enqueueCalendarSync(ctx.db, connectionId);
  return answer(202, "", [...connectionIds]);
}
