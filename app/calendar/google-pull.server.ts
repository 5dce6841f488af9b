// Pull a vendor's busy times from its Google Calendar into availability_blocks,
// incrementally.
//
// The first pull (and any pull without a stored sync token) lists every live
// event, page by page, and REPLACES the connection's blocks: seen events are
// upserted by (connection, external id), every other block is deleted. Google
// answers the last page with a nextSyncToken, which we store; later pulls list
// with that token and get only what changed since (cancelled events included),
// which we apply one by one. When Google no longer accepts the token (410
// fullSyncRequired) we drop it and do a full sync again.
//
// Each event goes through the published `google-event-to-availability-block`
// mapping (the DB's active version, else the file). Events the hub pushed itself
// (extendedProperties.private.hubKey, see google-push.server.ts) are ignored, so
// our own wedding events never come back as the vendor's busy time.
import { applyAvailabilityChanges } from "./availability-store.server";
import { eq } from "drizzle-orm";
import type { calendar_v3 } from "googleapis";
import type { HubContext } from "../runtime/context.server";
import { calendarSyncState } from "../../db/schema";
import { compileMapping, MappingEvaluationError, runMapping, type FieldErrors } from "../mapping/engine";
import type { AvailabilityBlock } from "../mapping/targets";
import { CalendarSyncError, openGoogleCalendar } from "./google-push.server";
import { loadCalendarMapping, type CalendarMapping } from "./wedding-events.server";

export const AVAILABILITY_MAPPING = "google-event-to-availability-block";
const NO_RETRY = { retry: false } as const;

export interface GooglePullOptions {
  /** API root (tests pass the simulator's URL). Default: see googleApiRoot(). */
  rootUrl?: string;
  /** Default "primary". A calendar other than the one the stored token belongs to forces a full sync. */
  calendarId?: string;
  /** Page size asked of Google (maxResults); default: Google's. */
  pageSize?: number;
}

export interface SkippedPullEvent {
  eventId: string;
  reason: "invalid-output" | "evaluation-error";
  errors?: FieldErrors;
  message?: string;
}

export interface GooglePullResult {
  /** True when the pull listed everything and replaced the connection's blocks (no token, or 410). */
  fullSync: boolean;
  upserted: number;
  deleted: number;
  /** Events the mapping could not turn into a valid block (count; details in skippedEvents). */
  skipped: number;
  skippedEvents: SkippedPullEvent[];
  /** Events the hub pushed itself (hubKey), left out on purpose. */
  ignored: number;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { status?: unknown; response?: { status?: unknown } };
  const s = e.response?.status ?? e.status;
  return typeof s === "number" ? s : undefined;
}

const isHubEvent = (ev: calendar_v3.Schema$Event) => Boolean(ev.extendedProperties?.private?.hubKey);

type Mapped = { kind: "block"; block: AvailabilityBlock } | { kind: "skip"; skip: SkippedPullEvent };

async function mapEvent(mapping: CalendarMapping, ev: calendar_v3.Schema$Event): Promise<Mapped> {
  const eventId = ev.id ?? "";
  try {
    const { output, errors } = await runMapping(compileMapping(mapping.expression), ev, mapping.target);
    if (errors) return { kind: "skip", skip: { eventId, reason: "invalid-output", errors } };
    const block = output as AvailabilityBlock;
    // The block's identity is the event's: a mapping that renames it would break upserts and deletes.
    if (block.externalId !== eventId)
      return { kind: "skip", skip: { eventId, reason: "invalid-output", errors: { externalId: ["must be the event id"] } } };
    return { kind: "block", block };
  } catch (err) {
    if (err instanceof MappingEvaluationError)
      return { kind: "skip", skip: { eventId, reason: "evaluation-error", message: err.message } };
    throw err;
  }
}

export async function pullGoogleAvailability(
  ctx: HubContext,
  connectionId: string,
  opts: GooglePullOptions = {},
): Promise<GooglePullResult> {
  const { conn, api } = await openGoogleCalendar(ctx, connectionId, opts);
  const calendarId = opts.calendarId ?? "primary";
  const mapping = await loadCalendarMapping(ctx.db, AVAILABILITY_MAPPING);

  /** Every page of one listing; returns the items and the final nextSyncToken. */
  const listAll = async (syncToken: string | undefined) => {
    const items: calendar_v3.Schema$Event[] = [];
    let pageToken: string | undefined;
    for (;;) {
      const res = await api.events.list(
        {
          calendarId,
          ...(syncToken ? { syncToken } : {}),
          ...(pageToken ? { pageToken } : {}),
          ...(opts.pageSize ? { maxResults: opts.pageSize } : {}),
        },
        NO_RETRY,
      );
      items.push(...(res.data.items ?? []));
      if (res.data.nextPageToken) {
        pageToken = res.data.nextPageToken;
        continue;
      }
      if (!res.data.nextSyncToken) throw new CalendarSyncError("Google's last events page carried no nextSyncToken");
      return { items, nextSyncToken: res.data.nextSyncToken };
    }
  };

  const [state] = await ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
  const storedToken = state?.syncToken && state.calendarId === calendarId ? state.syncToken : undefined;

  let listing: Awaited<ReturnType<typeof listAll>> | undefined;
  let fullSync = !storedToken;
  if (storedToken) {
    try {
      listing = await listAll(storedToken);
    } catch (err) {
      if (httpStatus(err) !== 410) throw err;
      ctx.log.info({ connectionId, calendarId }, "google sync token expired: full resync");
      await ctx.db.update(calendarSyncState).set({ syncToken: null }).where(eq(calendarSyncState.connectionId, connectionId));
      fullSync = true;
    }
  }
  listing ??= await listAll(undefined);

  const result: GooglePullResult = { fullSync, upserted: 0, deleted: 0, skipped: 0, skippedEvents: [], ignored: 0 };
  const upserts: AvailabilityBlock[] = [];
  const removals: string[] = [];
  for (const ev of listing.items) {
    if (!ev.id) continue;
    if (ev.status === "cancelled") {
      removals.push(ev.id);
      continue;
    }
    if (isHubEvent(ev)) {
      result.ignored++;
      removals.push(ev.id); // never a vendor block, even if it became one's event somehow
      continue;
    }
    const mapped = await mapEvent(mapping, ev);
    if (mapped.kind === "skip") {
      result.skipped++;
      result.skippedEvents.push(mapped.skip);
      removals.push(ev.id); // a block built from the event's older state would be stale
      continue;
    }
    upserts.push(mapped.block);
  }

  const now = new Date();
  const applied = await applyAvailabilityChanges(ctx.db, {
    connectionId,
    supplierId: conn.supplierId,
    calendarId,
    upserts,
    removals,
    fullSync,
    syncToken: listing.nextSyncToken,
    now,
  });
  result.upserted = applied.upserted;
  result.deleted = applied.deleted;

  ctx.log.info(
    {
      connectionId,
      fullSync,
      upserted: result.upserted,
      deleted: result.deleted,
      skipped: result.skipped,
      ignored: result.ignored,
    },
    "google availability pull",
  );
  return result;
}
