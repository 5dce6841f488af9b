// Pull a vendor's busy times from its Outlook calendar into availability_blocks,
// incrementally, through Graph's calendarView delta.
//
// A full pull asks for the delta of a window (30 days back .. 2 years ahead),
// follows @odata.nextLink page by page, and REPLACES the connection's blocks;
// the last page's @odata.deltaLink is stored in calendar_sync_state.sync_token.
// Later pulls follow that link and get only what changed, deleted events as
// {"@removed": …}. When Graph no longer knows the state (410) we drop the link
// and pull in full again; a window older than a week is also renewed that way,
// since a deltaLink keeps the window it was made for.
//
// Events go through the published `graph-event-to-availability-block` mapping.
// The hub's own events (ids in calendar_events, or our transactionId prefix for
// one a crash left unrecorded) are ignored, so our wedding events never come
// back as the vendor's busy time.
import { applyAvailabilityChanges } from "./availability-store.server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { calendarEvents, calendarSyncState } from "../../db/schema";
import { compileMapping, MappingEvaluationError, runMapping } from "../mapping/engine";
import type { AvailabilityBlock } from "../mapping/targets";
import type { CalendarPullResult } from "./provider";
import { CalendarSyncError } from "./google-push.server";
import { loadCalendarMapping, type CalendarMapping } from "./wedding-events.server";
import { graphStatus, openOutlookCalendar, type GraphOptions, type OutlookCalendar } from "./outlook-graph.server";
import { HUB_TRANSACTION_PREFIX, OUTLOOK_CALENDAR_ID } from "./outlook-push.server";

export const GRAPH_AVAILABILITY_MAPPING = "graph-event-to-availability-block";
const WINDOW_PAST_DAYS = 30;
const WINDOW_FUTURE_DAYS = 730;
/** A stored deltaLink older than this is replaced by a full pull over a fresh window. */
const WINDOW_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface OutlookPullOptions extends GraphOptions {
  /** Page size asked of Graph (Prefer: odata.maxpagesize); default Graph's. */
  pageSize?: number;
  /** "Now" for the window (tests). */
  now?: Date;
}

// Only what the pull relies on is checked; the mapping sees the whole event.
const deltaItem = z.looseObject({
  id: z.string().min(1),
  "@removed": z.looseObject({ reason: z.string().optional() }).optional(),
  transactionId: z.string().nullish(),
});
const deltaPage = z.looseObject({
  value: z.array(deltaItem),
  "@odata.nextLink": z.string().optional(),
  "@odata.deltaLink": z.string().optional(),
});
type DeltaItem = z.infer<typeof deltaItem>;

type Mapped = { kind: "block"; block: AvailabilityBlock } | { kind: "skip" };

async function mapEvent(mapping: CalendarMapping, ev: DeltaItem): Promise<Mapped> {
  try {
    const { output, errors } = await runMapping(compileMapping(mapping.expression), ev, mapping.target);
    if (errors) return { kind: "skip" };
    const block = output as AvailabilityBlock;
    // The block's identity is the event's: a mapping that renames it would break upserts and deletes.
    return block.externalId === ev.id ? { kind: "block", block } : { kind: "skip" };
  } catch (err) {
    if (err instanceof MappingEvaluationError) return { kind: "skip" };
    throw err;
  }
}

/** Every page of one delta round; returns the items and the final deltaLink. */
async function deltaRound(cal: OutlookCalendar, first: string, pageSize: number | undefined) {
  const items: DeltaItem[] = [];
  let link = first;
  for (;;) {
    // Times in UTC, so blocks are instants whatever zone the vendor works in.
    const prefer = `outlook.timezone="UTC"${pageSize ? `, odata.maxpagesize=${pageSize}` : ""}`;
    const page = deltaPage.parse(await cal.request(link).header("Prefer", prefer).get());
    items.push(...page.value);
    if (page["@odata.nextLink"]) link = page["@odata.nextLink"];
    else if (page["@odata.deltaLink"]) return { items, deltaLink: page["@odata.deltaLink"] };
    else throw new CalendarSyncError("Graph's last delta page carried no @odata.deltaLink");
  }
}

export async function pullOutlookAvailability(
  ctx: HubContext,
  connectionId: string,
  opts: OutlookPullOptions = {},
): Promise<CalendarPullResult> {
  const cal = await openOutlookCalendar(ctx, connectionId, opts);
  const mapping = await loadCalendarMapping(ctx.db, GRAPH_AVAILABILITY_MAPPING);
  const now = opts.now ?? new Date();

  const [state] = await ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
  const fresh = state?.lastFullSyncAt && now.getTime() - state.lastFullSyncAt.getTime() < WINDOW_MAX_AGE_MS;
  const storedLink = state?.syncToken && state.calendarId === OUTLOOK_CALENDAR_ID && fresh ? state.syncToken : undefined;

  let round: Awaited<ReturnType<typeof deltaRound>> | undefined;
  let fullSync = !storedLink;
  if (storedLink) {
    try {
      round = await deltaRound(cal, storedLink, opts.pageSize);
    } catch (err) {
      if (graphStatus(err) !== 410) throw err;
      ctx.log.info({ connectionId }, "graph delta state expired: full resync");
      await ctx.db.update(calendarSyncState).set({ syncToken: null }).where(eq(calendarSyncState.connectionId, connectionId));
      fullSync = true;
    }
  }
  if (!round) {
    const day = 24 * 3600 * 1000;
    const start = new Date(now.getTime() - WINDOW_PAST_DAYS * day).toISOString();
    const end = new Date(now.getTime() + WINDOW_FUTURE_DAYS * day).toISOString();
    round = await deltaRound(cal, `/me/calendarView/delta?startDateTime=${start}&endDateTime=${end}`, opts.pageSize);
  }

  // Our own events: every Graph id we ever created for this connection.
  const ours = new Set(
    (
      await ctx.db
        .select({ id: calendarEvents.providerEventId })
        .from(calendarEvents)
        .where(eq(calendarEvents.connectionId, connectionId))
    ).map((r) => r.id),
  );

  const result: CalendarPullResult = { fullSync, upserted: 0, deleted: 0, skipped: 0, ignored: 0 };
  // A page may repeat an event; the last state wins.
  const latest = new Map<string, DeltaItem>();
  for (const item of round.items) latest.set(item.id, item);
  const upserts: AvailabilityBlock[] = [];
  const removals: string[] = [];
  for (const ev of latest.values()) {
    if (ev["@removed"]) {
      removals.push(ev.id);
      continue;
    }
    if (ours.has(ev.id) || ev.transactionId?.startsWith(HUB_TRANSACTION_PREFIX)) {
      result.ignored++;
      removals.push(ev.id);
      continue;
    }
    const mapped = await mapEvent(mapping, ev);
    if (mapped.kind === "skip") {
      result.skipped++;
      removals.push(ev.id); // a block built from the event's older state would be stale
      continue;
    }
    upserts.push(mapped.block);
  }

  const deltaLink = round.deltaLink;
  const applied = await applyAvailabilityChanges(ctx.db, {
    connectionId,
    supplierId: cal.conn.supplierId,
    calendarId: OUTLOOK_CALENDAR_ID,
    upserts,
    removals,
    fullSync,
    syncToken: deltaLink,
    now,
  });
  result.upserted = applied.upserted;
  result.deleted = applied.deleted;

  ctx.log.info({ connectionId, ...result }, "outlook availability pull");
  return result;
}
