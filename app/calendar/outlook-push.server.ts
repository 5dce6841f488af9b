// Push a supplier's wedding events into its Outlook calendar through Microsoft
// Graph, idempotently.
//
// Graph assigns event ids itself, so crash safety comes from `transactionId`:
// each create carries one derived from (connection, key[, the id of the event
// it replaces]); Graph answers a retried create with the event it already made
// instead of a second one. A crash after Graph stored the event but before our
// calendar_events row therefore cannot duplicate it: the next run's create
// returns the existing event (created before we asked = adopted), which we then
// bring up to date. Rows keep Graph's id, @odata.etag and the hash of the body,
// so an unchanged event costs no call; a changed one is PATCHed with If-Match
// (412 → re-read, retry once); keys no longer wanted are deleted.
import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Event as GraphEvent } from "@microsoft/microsoft-graph-types";
import type { HubContext } from "../runtime/context.server";
import { calendarEvents } from "../../db/schema";
import type { CalendarPushResult } from "./provider";
import { OUTLOOK_EVENT_MAPPING, supplierWeddingEvents, type DesiredEvent } from "./wedding-events.server";
import { graphStatus, openOutlookCalendar, type GraphOptions, type OutlookCalendar } from "./outlook-graph.server";

/** Every transactionId the hub sends starts with this: how a pull recognises the hub's own events. */
export const HUB_TRANSACTION_PREFIX = "wedsync-";
/** calendar_events.calendar_id for Outlook rows: the signed-in user's default calendar (/me/events). */
export const OUTLOOK_CALENDAR_ID = "primary";

/** What the mapping owns: a PATCH sets each, clearing those the mapping stopped producing. */
const CLEARED: Record<string, unknown> = {
  subject: "",
  body: { contentType: "text", content: "" },
  location: { displayName: "" },
  isAllDay: false,
};

export interface OutlookPushOptions extends GraphOptions {
  /** Test hook: called after Graph accepted a create, before our row is written (throw to simulate a crash). */
  afterProviderInsert?: (key: string, eventId: string) => void | Promise<void>;
}

/**
 * The transactionId of a create for (connection, key). After the vendor deleted
 * our event, the replacement's create also names the deleted event's id, so it
 * is a new transaction rather than a retry of the first one.
 */
export function outlookTransactionId(connectionId: string, key: string, replaces?: string): string {
  const input = [connectionId, key, ...(replaces ? [replaces] : [])].join("\u0000");
  return `${HUB_TRANSACTION_PREFIX}${crypto.createHash("sha256").update(input).digest("hex").slice(0, 40)}`;
}

/** Graph's timestamps carry seven fractional digits; Date.parse wants at most three. */
const graphTime = (s: string | null | undefined): number => (s ? Date.parse(s.replace(/(\.\d{3})\d+/, "$1")) : NaN);

/** The mapping's body as a PATCH: everything but transactionId, cleared fields included. */
function patchBody(body: Record<string, unknown>): Record<string, unknown> {
  const { transactionId: _tx, ...rest } = body;
  return { ...CLEARED, ...rest };
}

export async function syncOutlookCalendar(
  ctx: HubContext,
  connectionId: string,
  opts: OutlookPushOptions = {},
): Promise<CalendarPushResult> {
  const cal = await openOutlookCalendar(ctx, connectionId, opts);
  const { events: desired, skipped } = await supplierWeddingEvents(ctx.db, cal.conn.supplierId, OUTLOOK_EVENT_MAPPING);
  const rows = await ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
  const byKey = new Map(rows.map((r) => [r.eventKey, r]));
  const result: CalendarPushResult = { inserted: 0, adopted: 0, updated: 0, deleted: 0, unchanged: 0, skipped };

  const saveRow = async (ev: DesiredEvent, remote: GraphEvent) => {
    const values = {
      providerEventId: remote.id!,
      etag: (remote as { "@odata.etag"?: string })["@odata.etag"] ?? null,
      calendarId: OUTLOOK_CALENDAR_ID,
      payloadHash: ev.hash,
      status: "active" as const,
      updatedAt: new Date(),
    };
    await ctx.db
      .insert(calendarEvents)
      .values({ connectionId, eventKey: ev.key, ...values })
      .onConflictDoUpdate({ target: [calendarEvents.connectionId, calendarEvents.eventKey], set: values });
  };

  const insert = async (ev: DesiredEvent, replaces?: string) => {
    const transactionId = outlookTransactionId(connectionId, ev.key, replaces);
    const askedAt = Date.now();
    const created = (await cal.request("/me/events").post({ ...ev.body, transactionId })) as GraphEvent;
    await opts.afterProviderInsert?.(ev.key, created.id!);
    if (graphTime(created.createdDateTime) < askedAt) {
      // Graph returned the event an earlier (crashed) run created: adopt it, with today's body.
      const etag = (created as { "@odata.etag"?: string })["@odata.etag"];
      await saveRow(ev, await patchEvent(cal, created.id!, etag, ev));
      result.adopted++;
    } else {
      await saveRow(ev, created);
      result.inserted++;
    }
  };

  const wanted = new Set<string>();
  for (const ev of desired) {
    wanted.add(ev.key);
    const row = byKey.get(ev.key);
    if (!row) await insert(ev);
    else if (row.status === "deleted") await insert(ev, row.providerEventId);
    else if (row.payloadHash === ev.hash) result.unchanged++;
    else {
      try {
        await saveRow(ev, await patchEvent(cal, row.providerEventId, row.etag, ev));
        result.updated++;
      } catch (err) {
        if (graphStatus(err) !== 404) throw err;
        // Deleted in Outlook by the vendor: put it back as a new event.
        await insert(ev, row.providerEventId);
      }
    }
  }

  for (const row of rows) {
    if (row.status !== "active" || wanted.has(row.eventKey)) continue;
    await deleteEvent(cal, row.providerEventId);
    await markDeleted(ctx, connectionId, row.eventKey);
    result.deleted++;
  }

  ctx.log.info({ connectionId, ...result, skipped: skipped.length }, "outlook calendar sync");
  return result;
}

/** PATCH with If-Match; on 412 (changed in Outlook since) re-read the etag and try once more. */
async function patchEvent(
  cal: OutlookCalendar,
  eventId: string,
  etag: string | null | undefined,
  ev: DesiredEvent,
): Promise<GraphEvent> {
  const path = `/me/events/${encodeURIComponent(eventId)}`;
  const call = (tag: string | null | undefined) => {
    const req = cal.request(path);
    return (tag ? req.header("If-Match", tag) : req).patch(patchBody(ev.body)) as Promise<GraphEvent>;
  };
  try {
    return await call(etag);
  } catch (err) {
    if (graphStatus(err) !== 412) throw err;
    const fresh = (await cal.request(path).select("id").get()) as { "@odata.etag"?: string };
    return call(fresh["@odata.etag"]);
  }
}

async function deleteEvent(cal: OutlookCalendar, eventId: string): Promise<void> {
  try {
    await cal.request(`/me/events/${encodeURIComponent(eventId)}`).delete();
  } catch (err) {
    if (graphStatus(err) !== 404) throw err; // already gone
  }
}

async function markDeleted(ctx: HubContext, connectionId: string, eventKey: string): Promise<void> {
  await ctx.db
    .update(calendarEvents)
    .set({ status: "deleted", updatedAt: new Date() })
    .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, eventKey)));
}

/** Delete every event the hub put in this Outlook calendar (the vendor disconnected and asked us to clean up). */
export async function removeOutlookEvents(ctx: HubContext, connectionId: string, opts: GraphOptions = {}): Promise<number> {
  const cal = await openOutlookCalendar(ctx, connectionId, { ...opts, allowInactive: true });
  const rows = await ctx.db
    .select()
    .from(calendarEvents)
    .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.status, "active")));
  for (const row of rows) {
    await deleteEvent(cal, row.providerEventId);
    await markDeleted(ctx, connectionId, row.eventKey);
  }
  return rows.length;
}
