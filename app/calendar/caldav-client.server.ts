// A CalDAV (Apple iCloud, or any RFC 4791 server) client for one connection:
// tsdav signed in with the connection's decrypted app-specific password, and
// the calendar the hub writes to and reads from (connections.settings.calendarId,
// a calendar URL, else the account's first calendar that holds VEVENTs).
//
// tsdav answers PUT/DELETE with a raw Response and throws plain Errors (no
// status) from discovery, so every request goes through a fetch wrapper that
// remembers the last failed HTTP status: `CalDavError` carries it, and the
// sync runner's 401/429/503 policy (providerStatus / providerRetryAfter) applies.
import { eq } from "drizzle-orm";
import { createDAVClient, type DAVCalendar } from "tsdav";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { connections } from "../../db/schema";
import { NotFoundError } from "../errors";
import { CalendarSyncError } from "./google-push.server";

export const APPLE_CALENDAR = "apple-calendar";
/** Per request, not per sync: a hung server must not hold a worker forever. */
const REQUEST_TIMEOUT_MS = 30_000;

/** What credentials.server.ts stores (encrypted) for an app-password connection. */
const credentialsSchema = z.object({
  serverUrl: z.url(),
  username: z.string().min(1),
  password: z.string().min(1),
});

const settingsSchema = z.looseObject({ calendarId: z.url().optional() });

/** An HTTP failure from the CalDAV server, with the status the sync runner decides on. */
export class CalDavError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "CalDavError";
  }
}

export type DavClient = Awaited<ReturnType<typeof createDAVClient>>;

export interface CalDavOptions {
  /** Test hook: the fetch every CalDAV request goes through (to count or inspect requests). */
  fetch?: typeof globalThis.fetch;
  /** Allow a connection that is no longer active (cleanup after a disconnect). */
  allowInactive?: boolean;
}

export interface CalDavSession {
  conn: typeof connections.$inferSelect;
  client: DavClient;
  /** The target calendar collection (absolute URL, trailing slash). */
  calendarUrl: string;
  /** Fetch with the connection's Authorization header, through the same status tracking. */
  request: (url: string, init?: RequestInit) => Promise<Response>;
  /** Turn a failed Response into a CalDavError (status and Retry-After kept). */
  fail: (res: Response, what: string) => CalDavError;
  /** Re-throw anything tsdav threw as a CalDavError with the last failed status seen. */
  wrap: (err: unknown, what: string) => CalDavError;
}

function retryAfterOf(res: Response): number | undefined {
  const raw = res.headers.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

/** Does this calendar collection accept events (no component set advertised means "everything")? */
const holdsEvents = (cal: DAVCalendar) => !cal.components?.length || cal.components.includes("VEVENT");

export async function openCalDav(ctx: HubContext, connectionId: string, opts: CalDavOptions = {}): Promise<CalDavSession> {
  const [conn] = await ctx.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!conn) throw new NotFoundError(`No connection ${connectionId}`);
  if (conn.connectorId !== APPLE_CALENDAR)
    throw new CalendarSyncError(`Connection ${connectionId} is ${conn.connectorId}, not ${APPLE_CALENDAR}`);
  if ((conn.status !== "active" && !opts.allowInactive) || !conn.credentialsEnc)
    throw new CalendarSyncError(`Connection ${connectionId} is not active (${conn.status})`);
  const creds = credentialsSchema.parse(ctx.vault.decryptJson<unknown>(conn.credentialsEnc));
  const settings = settingsSchema.safeParse(conn.settings ?? {});

  let lastFailure: { status: number; retryAfter?: number } | undefined;
  const base = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const tracked: typeof globalThis.fetch = async (input, init) => {
    const res = await base(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) lastFailure = { status: res.status, retryAfter: retryAfterOf(res) };
    return res;
  };
  const wrap = (err: unknown, what: string): CalDavError => {
    if (err instanceof CalDavError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new CalDavError(`${what}: ${message}`, lastFailure?.status, lastFailure?.retryAfter);
  };
  const fail = (res: Response, what: string) =>
    new CalDavError(`${what}: CalDAV server answered ${res.status} ${res.statusText}`, res.status, retryAfterOf(res));

  let client: DavClient;
  try {
    client = await createDAVClient({
      serverUrl: creds.serverUrl,
      credentials: { username: creds.username, password: creds.password },
      authMethod: "Basic",
      defaultAccountType: "caldav",
      fetch: tracked,
    });
  } catch (err) {
    throw wrap(err, "CalDAV sign-in failed");
  }
  const authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
  const request = (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", authorization);
    return tracked(url, { ...init, headers });
  };

  let calendarUrl: string;
  const chosen = settings.success ? settings.data.calendarId : undefined;
  if (chosen) {
    calendarUrl = withSlash(chosen);
  } else {
    let calendars: DAVCalendar[];
    try {
      calendars = await client.fetchCalendars();
    } catch (err) {
      throw wrap(err, "Listing CalDAV calendars failed");
    }
    const target = calendars.find(holdsEvents);
    if (!target) throw new CalendarSyncError(`The CalDAV account of connection ${connectionId} has no calendar for events`);
    calendarUrl = withSlash(target.url);
  }
  return { conn, client, calendarUrl, request, fail, wrap };
}
