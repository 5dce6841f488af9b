// The contract every calendar connector implements (google-calendar,
// outlook-calendar, apple-calendar): push the supplier's wedding events,
// pull its busy times, and clean up when the vendor disconnects. The sync
// runner (sync.server.ts) owns everything around it: token refresh on 401,
// backoff on 429/503, recording the last result for the console.
import type { HubContext } from "../runtime/context.server";
import type { SkippedEvent } from "./wedding-events.server";

export interface CalendarPushResult {
  inserted: number;
  /** Found at the provider under our id after a crash between its insert and our row. */
  adopted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: SkippedEvent[];
}

export interface CalendarPullResult {
  /** True when the pull listed everything and replaced the connection's blocks. */
  fullSync: boolean;
  upserted: number;
  deleted: number;
  /** Provider events the availability mapping could not turn into a block. */
  skipped: number;
  /** The hub's own events, left out on purpose. */
  ignored: number;
}

/** One stored mapping (a calendar_events row) to ask the provider about. */
export interface CalendarEventRef {
  providerEventId: string;
  calendarId: string;
}

/**
 * What the provider said about one of our events: still there; gone (404/410,
 * or Google's "cancelled" tombstone); or unchecked, when the provider could
 * not be asked (auth, network, 5xx), which is not evidence that it is gone.
 */
export type EventPresence =
  { state: "present" } | { state: "gone"; status: number | "cancelled" } | { state: "unchecked"; reason: string };

export interface CalendarProvider {
  connectorId: string;
  push(ctx: HubContext, connectionId: string): Promise<CalendarPushResult>;
  pull?(ctx: HubContext, connectionId: string): Promise<CalendarPullResult>;
  /** Delete every event the hub put in this calendar (disconnect with "remove my events"). Returns how many. */
  removeAll?(ctx: HubContext, connectionId: string): Promise<number>;
  /** Push notifications: open (or renew) the connection's channel so changes trigger pulls. */
  watch?(ctx: HubContext, connectionId: string): Promise<void>;
  /** Is a channel live that does not need renewing yet? (The runner opens one when not.) */
  isWatched?(ctx: HubContext, connectionId: string): Promise<boolean>;
  /** Close the connection's channels (disconnect). */
  unwatch?(ctx: HubContext, connectionId: string): Promise<void>;
  /**
   * Does the provider still hold these events of ours? One answer per ref, in
   * order; one sign-in per call, so callers batch a connection's refs. Never
   * throws: a connection that cannot be opened answers "unchecked" for all.
   */
  exists?(ctx: HubContext, connectionId: string, refs: readonly CalendarEventRef[]): Promise<EventPresence[]>;
}

/** How a failed lookup of one event reads: 404/410 is "gone", anything else leaves it unchecked. */
export function presenceFromError(err: unknown): EventPresence {
  const status = providerStatus(err);
  if (status === 404 || status === 410) return { state: "gone", status };
  if (status === 401 || status === 403) return { state: "unchecked", reason: `not authorised (${status})` };
  // The Graph SDK reports a failed fetch as statusCode -1.
  if (status !== undefined && status > 0) return { state: "unchecked", reason: `provider answered ${status}` };
  const message = err instanceof Error ? err.message : String(err);
  return { state: "unchecked", reason: message.slice(0, 200) };
}

/**
 * A provider's HTTP status on an error from any SDK (gaxios, Graph client,
 * tsdav/fetch): where the sync runner decides between refresh, backoff and fail.
 */
export function providerStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown; response?: { status?: unknown } };
  for (const s of [e.response?.status, e.status, e.statusCode, e.code]) if (typeof s === "number") return s;
  return undefined;
}

/** Retry-After (seconds) from an SDK error's response headers, when the provider sent one. */
export function providerRetryAfter(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as {
    retryAfterSeconds?: unknown;
    response?: { headers?: unknown };
    headers?: unknown;
  };
  if (typeof e.retryAfterSeconds === "number") return e.retryAfterSeconds;
  const headers = e.response?.headers ?? e.headers;
  let raw: unknown;
  if (headers && typeof (headers as Headers).get === "function") raw = (headers as Headers).get("retry-after");
  else if (headers && typeof headers === "object") raw = (headers as Record<string, unknown>)["retry-after"];
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(String(raw));
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
