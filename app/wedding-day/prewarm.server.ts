// Pre-warm for weddings in wedding-day mode: before anything is needed, each
// vendor connection serving the couple gets its OAuth token refreshed if it
// would expire within the horizon, and its calendar re-verified (the hub's
// events for this wedding still at the provider; a missing one queues a
// boosted sync that puts it back). The outcome per (couple, connection) is
// kept in wedding_day_prewarm for the dashboard.
import { and, eq, inArray, like, sql } from "drizzle-orm";
import { calendarEvents, connections, supplierCouples, weddingDayPrewarm } from "../../db/schema";
import type { HubContext } from "../runtime/context.server";
import { refreshConnectionToken } from "../oauth/tokens.server";
import { calendarProviderFor } from "../calendar/registry.server";
import { enqueueCalendarSync } from "../calendar/consumers.server";
import { weddingDayCouples } from "./mode.server";

/** Tokens expiring sooner than this are refreshed now rather than at the last minute on the day. */
export const PREWARM_TOKEN_HORIZON_MS = 6 * 3600_000;

export interface PrewarmResult {
  couples: number;
  connections: number;
  tokensRefreshed: number;
  calendarsVerified: number;
  syncsQueued: number;
  errors: number;
}

export async function prewarmWeddingDays(ctx: HubContext, now = new Date()): Promise<PrewarmResult> {
  const result: PrewarmResult = {
    couples: 0,
    connections: 0,
    tokensRefreshed: 0,
    calendarsVerified: 0,
    syncsQueued: 0,
    errors: 0,
  };
  const live = await weddingDayCouples(ctx.db, now);
  result.couples = live.length;
  for (const couple of live) {
    const conns = await ctx.db
      .select({ id: connections.id, connectorId: connections.connectorId, tokenExpiresAt: connections.tokenExpiresAt })
      .from(connections)
      .innerJoin(supplierCouples, eq(supplierCouples.supplierId, connections.supplierId))
      .where(and(eq(supplierCouples.coupleId, couple.coupleId), eq(connections.status, "active")));
    for (const conn of conns) {
      result.connections++;
      const outcome = await prewarmConnection(ctx, couple.coupleId, conn, now);
      if (outcome.tokenRefreshed) result.tokensRefreshed++;
      if (outcome.calendarVerified === true) result.calendarsVerified++;
      if (outcome.syncQueued) result.syncsQueued++;
      if (outcome.error) result.errors++;
      await ctx.db
        .insert(weddingDayPrewarm)
        .values({
          coupleId: couple.coupleId,
          connectionId: conn.id,
          at: now,
          tokenRefreshed: outcome.tokenRefreshed,
          calendarVerified: outcome.calendarVerified,
          error: outcome.error,
        })
        .onConflictDoUpdate({
          target: [weddingDayPrewarm.coupleId, weddingDayPrewarm.connectionId],
          set: {
            at: now,
            tokenRefreshed: outcome.tokenRefreshed,
            calendarVerified: outcome.calendarVerified,
            error: outcome.error,
          },
        });
    }
  }
  return result;
}

interface ConnectionOutcome {
  tokenRefreshed: boolean;
  /** null: not a calendar connection. */
  calendarVerified: boolean | null;
  syncQueued: boolean;
  error: string | null;
}

async function prewarmConnection(
  ctx: HubContext,
  coupleId: string,
  conn: { id: string; connectorId: string; tokenExpiresAt: Date | null },
  now: Date,
): Promise<ConnectionOutcome> {
  const out: ConnectionOutcome = { tokenRefreshed: false, calendarVerified: null, syncQueued: false, error: null };
  try {
    if (conn.tokenExpiresAt && conn.tokenExpiresAt.getTime() - now.getTime() < PREWARM_TOKEN_HORIZON_MS) {
      const refreshed = await refreshConnectionToken(ctx, conn.id, { force: true });
      if (refreshed === "needs-reconnect") return { ...out, error: "The connection needs the vendor to reconnect." };
      out.tokenRefreshed = refreshed === "refreshed";
    }
    const provider = calendarProviderFor(conn.connectorId);
    if (!provider) return out;
    const refs = await ctx.db
      .select({
        eventKey: calendarEvents.eventKey,
        providerEventId: calendarEvents.providerEventId,
        calendarId: calendarEvents.calendarId,
      })
      .from(calendarEvents)
      .where(
        and(
          eq(calendarEvents.connectionId, conn.id),
          eq(calendarEvents.status, "active"),
          like(calendarEvents.eventKey, `${coupleId}:%`),
        ),
      );
    if (refs.length === 0 || !provider.exists) {
      // Nothing pushed yet for this wedding (or no way to look): a boosted sync puts it right.
      await enqueueCalendarSync(ctx.db, conn.id, { delayMs: 0 });
      return { ...out, calendarVerified: false, syncQueued: true };
    }
    const presence = await provider.exists(ctx, conn.id, refs);
    const unchecked = presence.find((p) => p.state === "unchecked");
    if (unchecked && unchecked.state === "unchecked")
      return { ...out, calendarVerified: false, error: `Calendar not verified: ${unchecked.reason}` };
    const gone = refs.filter((_, i) => presence[i]?.state === "gone");
    if (gone.length > 0) {
      // The vendor deleted it: marked deleted here, the push creates it again (Google under a new id generation).
      await ctx.db
        .update(calendarEvents)
        .set({ status: "deleted" })
        .where(
          and(
            eq(calendarEvents.connectionId, conn.id),
            inArray(
              calendarEvents.eventKey,
              gone.map((r) => r.eventKey),
            ),
          ),
        );
      await enqueueCalendarSync(ctx.db, conn.id, { delayMs: 0 });
      return { ...out, calendarVerified: false, syncQueued: true };
    }
    return { ...out, calendarVerified: true };
  } catch (err) {
    return { ...out, error: (err instanceof Error ? err.message : String(err)).slice(0, 500) };
  }
}

/** The last pre-warm outcome per connection of these couples (for the dashboard). */
export async function prewarmStatus(ctx: HubContext, coupleIds: string[]) {
  if (coupleIds.length === 0) return [];
  return ctx.db
    .select({
      coupleId: weddingDayPrewarm.coupleId,
      connectionId: weddingDayPrewarm.connectionId,
      connectorId: connections.connectorId,
      connectionStatus: connections.status,
      at: weddingDayPrewarm.at,
      tokenRefreshed: weddingDayPrewarm.tokenRefreshed,
      calendarVerified: weddingDayPrewarm.calendarVerified,
      error: weddingDayPrewarm.error,
      stale: sql<boolean>`${weddingDayPrewarm.at} < now() - interval '1 hour'`,
    })
    .from(weddingDayPrewarm)
    .innerJoin(connections, eq(connections.id, weddingDayPrewarm.connectionId))
    .where(inArray(weddingDayPrewarm.coupleId, coupleIds));
}
