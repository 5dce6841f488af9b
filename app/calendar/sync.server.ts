// One calendar sync of one connection: push the wedding events, then pull busy
// times, whatever the provider. Around the provider call:
//   401 -> refresh the OAuth token once (row-locked, shared with the refresh job) and retry;
//   429 / 503 -> CalendarBackoff carrying the provider's Retry-After, which the job turns into a
//                rescheduled run (the SDKs' own retries are off, so this is the one policy);
//   anything else -> recorded on calendar_sync_state.last_error and rethrown (graphile-worker retries).
import { eq, sql } from "drizzle-orm";
import { AVAILABILITY_CHANNEL } from "./availability.server";
import { scheduleChannelRenewal } from "./channels.server";
import type { HubContext } from "../runtime/context.server";
import { calendarSyncState, connections } from "../../db/schema";
import { refreshConnectionToken } from "../oauth/tokens.server";
import { findConnector } from "../connectors/catalog";
import { calendarProviderFor } from "./registry.server";
import { observeProviderCall } from "../ops/metrics.server";
import {
  providerRetryAfter,
  providerStatus,
  type CalendarProvider,
  type CalendarPullResult,
  type CalendarPushResult,
} from "./provider";

/** The provider asked us to slow down (429) or is briefly unavailable (503). */
export class CalendarBackoff extends Error {
  constructor(
    readonly status: number,
    /** The provider's Retry-After, if it sent one. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`calendar provider answered ${status}${retryAfterSeconds !== undefined ? ` (retry after ${retryAfterSeconds}s)` : ""}`);
  }
}

export interface CalendarSyncOutcome {
  status: "synced" | "skipped";
  reason?: string;
  push?: Omit<CalendarPushResult, "skipped"> & { skipped: number };
  pull?: CalendarPullResult;
  /** How many times the access token was refreshed after a 401. */
  refreshed: number;
}

export interface CalendarSyncOptions {
  push?: boolean;
  pull?: boolean;
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function runCalendarSync(
  ctx: HubContext,
  connectionId: string,
  opts: CalendarSyncOptions = {},
): Promise<CalendarSyncOutcome> {
  const [conn] = await ctx.db.select().from(connections).where(eq(connections.id, connectionId));
  const provider = conn ? calendarProviderFor(conn.connectorId) : undefined;
  // A job queued before a disconnect (or for a deleted connection) has nothing left to do.
  if (!conn || conn.status !== "active")
    return { status: "skipped", reason: `connection is ${conn?.status ?? "gone"}`, refreshed: 0 };
  if (!provider) return { status: "skipped", reason: `${conn.connectorId} is not a calendar connector`, refreshed: 0 };

  const oauth = findConnector(conn.connectorId)?.auth.kind === "oauth2";
  let refreshed = 0;
  /** Run a provider call; on 401 refresh the token once and run it again. */
  const withAuth = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const status = providerStatus(err);
      if (status === 401 && oauth && refreshed === 0) {
        const outcome = await refreshConnectionToken(ctx, connectionId, { force: true });
        if (outcome === "refreshed") {
          refreshed++;
          return withAuth(call);
        }
      }
      if (status === 429 || status === 503) throw new CalendarBackoff(status, providerRetryAfter(err));
      throw err;
    }
  };

  const outcome: CalendarSyncOutcome = { status: "synced", refreshed: 0 };
  try {
    if (opts.push !== false) {
      const { skipped, ...counts } = await withAuth(() =>
        observeProviderCall(conn.connectorId, () => provider.push(ctx, connectionId)),
      );
      outcome.push = { ...counts, skipped: skipped.length };
      await recordSyncState(ctx, connectionId, {
        lastPushAt: new Date(),
        lastPushResult: outcome.push,
        lastError: null,
        lastErrorAt: null,
      });
    }
    if (opts.pull !== false && provider.pull) {
      const pull = provider.pull;
      outcome.pull = await withAuth(() => observeProviderCall(conn.connectorId, () => pull(ctx, connectionId)));
      if (outcome.pull.upserted + outcome.pull.deleted > 0) {
        // Couples watching over Socket.IO re-read this vendor's availability (every web process listens).
        await ctx.db.execute(sql`select pg_notify(${AVAILABILITY_CHANNEL}, ${JSON.stringify({ supplierId: conn.supplierId })})`);
      }
    }
  } catch (err) {
    await recordSyncState(ctx, connectionId, { lastError: errorMessage(err).slice(0, 1000), lastErrorAt: new Date() });
    throw err;
  }
  await ensureWatched(ctx, provider, connectionId, withAuth);
  outcome.refreshed = refreshed;
  return outcome;
}

/** Upsert the console-facing fields of calendar_sync_state (the pull owns sync_token and its timestamps). */
async function recordSyncState(
  ctx: HubContext,
  connectionId: string,
  values: Partial<Pick<typeof calendarSyncState.$inferInsert, "lastPushAt" | "lastPushResult" | "lastError" | "lastErrorAt">>,
): Promise<void> {
  await ctx.db
    .insert(calendarSyncState)
    .values({ connectionId, calendarId: "primary", ...values })
    .onConflictDoUpdate({ target: calendarSyncState.connectionId, set: { ...values } });
}

/**
 * Open a push channel when the connection has none that lasts the hour. A
 * failure only costs latency (the 15-minute sweep still pulls), so it is
 * logged, not thrown.
 */
async function ensureWatched(
  ctx: HubContext,
  provider: CalendarProvider,
  connectionId: string,
  withAuth: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const { watch, isWatched } = provider;
  if (!watch || !isWatched || (await isWatched(ctx, connectionId))) return;
  try {
    await withAuth(() => watch(ctx, connectionId));
    await scheduleChannelRenewal(ctx.db, connectionId);
  } catch (err) {
    ctx.log.warn({ connectionId, err: errorMessage(err) }, "could not open a calendar push channel; the sweep keeps polling");
  }
}
