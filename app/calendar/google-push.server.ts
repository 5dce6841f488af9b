// Push a supplier's wedding events into its Google Calendar, idempotently.
//
// Each event has a stable hub key ("<coupleId>:ceremony") and a Google event id
// derived from (connection, key, generation): a crash after Google stored the
// event but before we wrote our calendar_events row cannot create a duplicate,
// because the retry inserts the same id, gets 409 duplicate and adopts it.
// A row remembers the provider id, etag and the hash of the body we sent, so
// an unchanged event costs no API call; a changed one is PATCHed with If-Match.
import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import { google } from "googleapis";
import type { calendar_v3 } from "googleapis";
import type { HubContext } from "../runtime/context.server";
import { calendarEvents, connections, connectors } from "../../db/schema";
import { DomainError, NotFoundError } from "../errors";
import type { StoredTokens } from "../oauth/tokens.server";
import { sandboxSimulatorUrl } from "../connectors/sandbox.server";
import { canonicalJson, supplierWeddingEvents, type DesiredEvent, type SkippedEvent } from "./wedding-events.server";
import { WEDDING_DAY_CALL_POLICY } from "../wedding-day/mode.server";

export const GOOGLE_API_ROOT = "https://www.googleapis.com/";
const NO_RETRY = { retry: false } as const;
/** Top-level fields the mapping owns: when the mapping stops producing one, a PATCH clears it. */
const MANAGED_FIELDS = ["summary", "description", "location", "start", "end", "extendedProperties"] as const;
/** How many id generations to try when Google holds a deleted event under the id we would use. */
const MAX_GENERATIONS = 5;
/**
 * Every Calendar API call gives up after this long (gaxios has no timeout of its own): a request
 * Google never answers must fail the sync, which is then retried, rather than hold its job and a
 * worker forever. The wedding-day call policy's timeout.
 */
export const GOOGLE_REQUEST_TIMEOUT_MS = WEDDING_DAY_CALL_POLICY.timeoutMs;

export interface GoogleSyncOptions {
  /** API root with a trailing slash. Default: see googleApiRoot(). Tests pass the simulator's URL + "/". */
  rootUrl?: string;
  /** Default "primary" (the connected account's main calendar). */
  calendarId?: string;
  /** Per-request timeout; default GOOGLE_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Test hook: called after the provider accepted an insert, before our row is written (throw to simulate a crash). */
  afterProviderInsert?: (key: string, eventId: string) => void | Promise<void>;
}

export interface GoogleSyncResult {
  inserted: number;
  /** 409 on insert: the event already existed at Google under our id (an earlier run crashed before saving the row). */
  adopted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: SkippedEvent[];
}

export class CalendarSyncError extends DomainError {
  override readonly status = 502;
  override readonly code = "calendar_sync_failed";
}

/** Connector settings the push reads (staff- or test-set JSON on the connectors row). */
export interface GoogleCalendarSettings {
  /** Overrides the Calendar API root (a simulator or a proxy), e.g. "http://127.0.0.1:4010/". */
  apiRootUrl?: string;
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

/**
 * The Calendar API root for this hub. The seam for environments: explicit option
 * (tests) → PROVIDER_API_ROOTS (config) → the google-calendar connector's settings.apiRootUrl (how worker
 * processes are pointed at a simulator) → the sandbox's google-calendar
 * simulator → Google's production host.
 */
export async function googleApiRoot(ctx: HubContext, opts: GoogleSyncOptions = {}): Promise<string> {
  if (opts.rootUrl) return withSlash(opts.rootUrl);
  const fromConfig = ctx.config.providerApiRoots["google-calendar"];
  if (fromConfig) return withSlash(fromConfig);
  const [row] = await ctx.db
    .select({ settings: connectors.settings })
    .from(connectors)
    .where(eq(connectors.id, "google-calendar"));
  const configured = (row?.settings as GoogleCalendarSettings | undefined)?.apiRootUrl;
  if (typeof configured === "string" && /^https?:\/\//.test(configured)) return withSlash(configured);
  if (ctx.config.mode === "sandbox") {
    const sim = sandboxSimulatorUrl(ctx.config, "google-calendar");
    if (sim) return `${sim}/`;
  }
  return GOOGLE_API_ROOT;
}

/**
 * Deterministic Google event id for (connection, key, generation): sha256 hex is
 * within Google's base32hex alphabet [a-v0-9]; generation > 0 appends "g<n>"
 * ("g" is not a hex digit, so ids never collide across generations).
 */
export function googleEventId(connectionId: string, key: string, generation = 0): string {
  const hex = crypto.createHash("sha256").update(`${connectionId}\u0000${key}`).digest("hex");
  return generation > 0 ? `${hex}g${generation}` : hex;
}

export function generationOf(eventId: string): number {
  const m = /g(\d+)$/.exec(eventId);
  return m ? Number(m[1]) : 0;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { status?: unknown; response?: { status?: unknown } };
  const s = e.response?.status ?? e.status;
  return typeof s === "number" ? s : undefined;
}

/** Does the provider's event already carry the desired body (compared on the fields we send)? */
function matchesDesired(remote: calendar_v3.Schema$Event, body: Record<string, unknown>): boolean {
  const r = remote as Record<string, unknown>;
  return MANAGED_FIELDS.every((f) => canonicalJson(r[f] ?? null) === canonicalJson(body[f] ?? null));
}

/** The desired body as a PATCH: managed fields the mapping no longer produces are cleared with null. */
function patchBody(body: Record<string, unknown>): calendar_v3.Schema$Event {
  const patch: Record<string, unknown> = { ...body };
  for (const f of MANAGED_FIELDS) if (!(f in patch)) patch[f] = null;
  return patch as calendar_v3.Schema$Event;
}

/**
 * An active Google Calendar connection and a Calendar API client authorised
 * with its access token (SDK retries off: the job queue owns retries; every call times out).
 */
export async function openGoogleCalendar(
  ctx: HubContext,
  connectionId: string,
  opts: { rootUrl?: string; allowInactive?: boolean; timeoutMs?: number } = {},
): Promise<{ conn: typeof connections.$inferSelect; api: calendar_v3.Calendar }> {
  const [conn] = await ctx.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!conn) throw new NotFoundError(`No connection ${connectionId}`);
  if (conn.connectorId !== "google-calendar")
    throw new CalendarSyncError(`Connection ${connectionId} is ${conn.connectorId}, not google-calendar`);
  // Cleaning up after a disconnect runs before the tokens are deleted, on a connection no longer "active".
  if ((conn.status !== "active" && !opts.allowInactive) || !conn.credentialsEnc)
    throw new CalendarSyncError(`Connection ${connectionId} is not active (${conn.status})`);
  const tokens = ctx.vault.decryptJson<StoredTokens>(conn.credentialsEnc);
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: tokens.accessToken });
  const timeout = opts.timeoutMs ?? GOOGLE_REQUEST_TIMEOUT_MS;
  return { conn, api: google.calendar({ version: "v3", auth, rootUrl: await googleApiRoot(ctx, opts), timeout }) };
}

export async function syncGoogleCalendar(
  ctx: HubContext,
  connectionId: string,
  opts: GoogleSyncOptions = {},
): Promise<GoogleSyncResult> {
  const { conn, api } = await openGoogleCalendar(ctx, connectionId, opts);
  const calendarId = opts.calendarId ?? "primary";

  const { events: desired, skipped } = await supplierWeddingEvents(ctx.db, conn.supplierId);
  const rows = await ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
  const byKey = new Map(rows.map((r) => [r.eventKey, r]));
  const result: GoogleSyncResult = { inserted: 0, adopted: 0, updated: 0, deleted: 0, unchanged: 0, skipped };

  const saveRow = async (ev: DesiredEvent, remote: calendar_v3.Schema$Event) => {
    const values = {
      providerEventId: remote.id!,
      etag: remote.etag ?? null,
      calendarId,
      payloadHash: ev.hash,
      status: "active" as const,
      updatedAt: new Date(),
    };
    await ctx.db
      .insert(calendarEvents)
      .values({ connectionId, eventKey: ev.key, ...values })
      .onConflictDoUpdate({ target: [calendarEvents.connectionId, calendarEvents.eventKey], set: values });
  };

  /** PATCH with If-Match; on 412 (changed at Google since) re-read the etag and try once more. */
  const patch = async (eventId: string, etag: string | null | undefined, ev: DesiredEvent) => {
    const call = (tag: string | null | undefined) =>
      api.events.patch(
        { calendarId, eventId, requestBody: patchBody(ev.body) },
        { ...NO_RETRY, ...(tag ? { headers: { "If-Match": tag } } : {}) },
      );
    try {
      return (await call(etag)).data;
    } catch (err) {
      if (httpStatus(err) !== 412) throw err;
      const fresh = await api.events.get({ calendarId, eventId }, NO_RETRY);
      return (await call(fresh.data.etag)).data;
    }
  };

  /** Insert under the deterministic id, adopting an event a crashed run already created. */
  const insert = async (ev: DesiredEvent, firstGeneration: number) => {
    for (let gen = firstGeneration; gen < firstGeneration + MAX_GENERATIONS; gen++) {
      const id = googleEventId(connectionId, ev.key, gen);
      try {
        const res = await api.events.insert({ calendarId, requestBody: { ...ev.body, id } }, NO_RETRY);
        await opts.afterProviderInsert?.(ev.key, id);
        await saveRow(ev, res.data);
        result.inserted++;
        return;
      } catch (err) {
        if (httpStatus(err) !== 409) throw err;
      }
      let remote: calendar_v3.Schema$Event;
      try {
        remote = (await api.events.get({ calendarId, eventId: id }, NO_RETRY)).data;
      } catch (err) {
        const s = httpStatus(err);
        if (s === 410 || s === 404) continue; // deleted at Google: the id is burnt, use the next generation
        throw err;
      }
      if (remote.status === "cancelled") continue;
      const current = matchesDesired(remote, ev.body) ? remote : await patch(id, remote.etag, ev);
      await saveRow(ev, current);
      result.adopted++;
      return;
    }
    throw new CalendarSyncError(`Could not find a free Google event id for ${ev.key} on connection ${connectionId}`);
  };

  const wanted = new Set<string>();
  for (const ev of desired) {
    wanted.add(ev.key);
    const row = byKey.get(ev.key);
    if (!row) {
      await insert(ev, 0);
    } else if (row.status === "deleted") {
      // Google keeps a deleted event's id: coming back needs the next generation.
      await insert(ev, generationOf(row.providerEventId) + 1);
    } else if (row.payloadHash === ev.hash) {
      result.unchanged++;
    } else {
      try {
        const remote = await patch(row.providerEventId, row.etag, ev);
        await saveRow(ev, remote);
        result.updated++;
      } catch (err) {
        const s = httpStatus(err);
        if (s !== 410 && s !== 404) throw err;
        // Deleted at Google by the vendor: put it back under the next generation's id.
        await insert(ev, generationOf(row.providerEventId) + 1);
      }
    }
  }

  for (const row of rows) {
    if (row.status !== "active" || wanted.has(row.eventKey)) continue;
    try {
      await api.events.delete({ calendarId: row.calendarId, eventId: row.providerEventId }, NO_RETRY);
    } catch (err) {
      const s = httpStatus(err);
      if (s !== 410 && s !== 404) throw err; // already gone
    }
    await ctx.db
      .update(calendarEvents)
      .set({ status: "deleted", updatedAt: new Date() })
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, row.eventKey)));
    result.deleted++;
  }

  ctx.log.info({ connectionId, ...result, skipped: skipped.length }, "google calendar sync");
  return result;
}

/** Delete every event the hub put in this Google calendar (the vendor disconnected and asked us to clean up). */
export async function removeGoogleEvents(
  ctx: HubContext,
  connectionId: string,
  opts: { rootUrl?: string } = {},
): Promise<number> {
  const { api } = await openGoogleCalendar(ctx, connectionId, { ...opts, allowInactive: true });
  const rows = await ctx.db
    .select()
    .from(calendarEvents)
    .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.status, "active")));
  for (const row of rows) {
    try {
      await api.events.delete({ calendarId: row.calendarId, eventId: row.providerEventId }, NO_RETRY);
    } catch (err) {
      const s = httpStatus(err);
      if (s !== 410 && s !== 404) throw err;
    }
    await ctx.db
      .update(calendarEvents)
      .set({ status: "deleted", updatedAt: new Date() })
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, row.eventKey)));
  }
  return rows.length;
}
