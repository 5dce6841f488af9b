// Push a supplier's wedding events into its CalDAV calendar (Apple iCloud),
// idempotently, mirroring google-push.server.ts.
//
// Each event is one calendar object resource whose file name and UID derive
// from (connection, key): a crash after the server stored the object but
// before we wrote our calendar_events row cannot duplicate it, because the
// retry PUTs the same URL with If-None-Match: * and, on 412, adopts what is
// there. Updates and deletes carry If-Match with the stored ETag. A 412 there
// means the vendor changed the object since our last write: we re-read it and
// put our managed fields (summary, description, location, start, end) over
// their copy, keeping everything else they added, with If-Match on the fresh
// ETag (once). An unchanged event (same payload hash) costs no request.
import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { calendarEvents } from "../../db/schema";
import { CalendarSyncError } from "./google-push.server";
import { openCalDav, type CalDavOptions, type CalDavSession } from "./caldav-client.server";
import { managedFields, masterEvent, mergeOver, parseCalendar, sameManagedFields } from "./caldav-ical";
import { isICalRenderable, renderEventResource } from "./ical";
import { supplierWeddingEvents, type DesiredEvent } from "./wedding-events.server";
import type { CalendarPushResult } from "./provider";

/** Every UID the hub writes ends with this, so the pull can tell our events from the vendor's. */
export const HUB_UID_SUFFIX = "@hub.wedsync";
const ICS_TYPE = "text/calendar; charset=utf-8";

export interface CalDavPushOptions extends CalDavOptions {
  /** Test hook: called after the server accepted a create, before our row is written (throw to simulate a crash). */
  afterProviderInsert?: (key: string, url: string) => void | Promise<void>;
}

/** sha256 of (connection, key): the object's file name and the UID's local part. */
export function caldavObjectName(connectionId: string, key: string): string {
  return crypto.createHash("sha256").update(`${connectionId}\u0000${key}`).digest("hex");
}

export const caldavUid = (connectionId: string, key: string) => `${caldavObjectName(connectionId, key)}${HUB_UID_SUFFIX}`;

export const caldavObjectUrl = (calendarUrl: string, connectionId: string, key: string) =>
  new URL(`${caldavObjectName(connectionId, key)}.ics`, calendarUrl).href;

interface Remote {
  text: string;
  etag: string | null;
}

/** The requests the push makes, each answering with the object's new ETag or a status to decide on. */
function objectApi(s: CalDavSession) {
  /** ETag of a write; a server that does not return one (allowed by RFC 4791) is asked for it. */
  const etagAfterWrite = async (res: Response, url: string): Promise<string | null> =>
    res.headers.get("etag") ?? (await get(url))?.etag ?? null;

  const get = async (url: string): Promise<Remote | null> => {
    const res = await s.request(url, { method: "GET" });
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) throw s.fail(res, `GET ${url}`);
    return { text: await res.text(), etag: res.headers.get("etag") };
  };

  /** PUT under a precondition; "precondition" when the server refused it (412), else the new ETag. */
  const put = async (
    url: string,
    body: string,
    precondition: { "If-None-Match": "*" } | { "If-Match": string },
  ): Promise<{ etag: string | null } | "precondition" | "missing"> => {
    const res = await s.request(url, { method: "PUT", body, headers: { "content-type": ICS_TYPE, ...precondition } });
    if (res.status === 412) return "precondition";
    if (res.status === 404 || res.status === 410) return "missing";
    if (!res.ok) throw s.fail(res, `PUT ${url}`);
    await res.arrayBuffer(); // drain so the connection is reused
    return { etag: await etagAfterWrite(res, url) };
  };

  /** DELETE with If-Match; gone already counts as deleted. On 412 (changed since) the fresh ETag is used once. */
  const remove = async (url: string, etag: string | null): Promise<void> => {
    const del = async (tag: string | null) => {
      const res = await s.request(url, { method: "DELETE", headers: tag ? { "If-Match": tag } : {} });
      await res.arrayBuffer();
      return res;
    };
    let res = await del(etag);
    if (res.status === 412) {
      // Still our object (its URL is ours), only touched by the vendor: it goes, but not blindly.
      const fresh = await get(url);
      if (!fresh) return;
      res = await del(fresh.etag);
    }
    if (res.ok || res.status === 404 || res.status === 410) return;
    throw s.fail(res, `DELETE ${url}`);
  };

  return { get, put, remove };
}

/** Our object text for an event (ical-generator via ical.ts). */
const render = (uid: string, ev: DesiredEvent) => renderEventResource({ uid, body: ev.body, stamp: new Date() });

/** Does the server's copy already carry our managed fields? */
function remoteMatches(remoteText: string, oursText: string): boolean {
  const remote = parseCalendar(remoteText);
  const ours = parseCalendar(oursText);
  const r = remote && masterEvent(remote);
  const o = ours && masterEvent(ours);
  return Boolean(r && o && sameManagedFields(managedFields(r), managedFields(o)));
}

export async function syncCalDavCalendar(
  ctx: HubContext,
  connectionId: string,
  opts: CalDavPushOptions = {},
): Promise<CalendarPushResult> {
  const session = await openCalDav(ctx, connectionId, opts);
  const { conn, calendarUrl } = session;
  const api = objectApi(session);

  const { events: desired, skipped } = await supplierWeddingEvents(ctx.db, conn.supplierId);
  const rows = await ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
  const byKey = new Map(rows.map((r) => [r.eventKey, r]));
  const result: CalendarPushResult = { inserted: 0, adopted: 0, updated: 0, deleted: 0, unchanged: 0, skipped };

  const saveRow = async (ev: DesiredEvent, url: string, etag: string | null) => {
    const values = {
      providerEventId: url,
      etag,
      calendarId: calendarUrl,
      payloadHash: ev.hash,
      status: "active" as const,
      updatedAt: new Date(),
    };
    await ctx.db
      .insert(calendarEvents)
      .values({ connectionId, eventKey: ev.key, ...values })
      .onConflictDoUpdate({ target: [calendarEvents.connectionId, calendarEvents.eventKey], set: values });
  };

  /**
   * Make the server's current copy carry our version: nothing to write when it
   * already does, else our managed fields over their copy with If-Match on its
   * ETag. A second 412 means it keeps changing under us: fail, the job retries.
   */
  const reconcile = async (url: string, remote: Remote, ours: string): Promise<string | null> => {
    if (remoteMatches(remote.text, ours)) return remote.etag;
    const merged = mergeOver(remote.text, ours) ?? ours;
    const res = await api.put(url, merged, remote.etag ? { "If-Match": remote.etag } : { "If-None-Match": "*" });
    if (typeof res === "object") return res.etag;
    throw new CalendarSyncError(`${url} changed again while the hub was updating it (${res}); the next sync retries`);
  };

  /** Create under the deterministic URL; a 412 means a crashed run already did: adopt it. */
  const create = async (ev: DesiredEvent, url: string, ours: string) => {
    const res = await api.put(url, ours, { "If-None-Match": "*" });
    if (typeof res === "object") {
      await opts.afterProviderInsert?.(ev.key, url);
      await saveRow(ev, url, res.etag);
      result.inserted++;
      return;
    }
    const remote = await api.get(url);
    if (!remote) throw new CalendarSyncError(`${url} was refused as existing but cannot be read; the next sync retries`);
    await saveRow(ev, url, await reconcile(url, remote, ours));
    result.adopted++;
  };

  /** Update with If-Match on the stored ETag; 412 -> re-read and reconcile; gone -> create again. */
  const update = async (ev: DesiredEvent, url: string, etag: string | null, ours: string) => {
    const res = etag ? await api.put(url, ours, { "If-Match": etag }) : "precondition";
    if (typeof res === "object") {
      await saveRow(ev, url, res.etag);
      result.updated++;
      return;
    }
    const remote = res === "missing" ? null : await api.get(url);
    if (!remote) {
      // The vendor deleted it: CalDAV does not keep deleted names, so the same URL comes back.
      await create(ev, url, ours);
      return;
    }
    await saveRow(ev, url, await reconcile(url, remote, ours));
    result.updated++;
  };

  const wanted = new Set<string>();
  for (const ev of desired) {
    if (!isICalRenderable(ev.body)) {
      result.skipped.push({ key: ev.key, coupleId: ev.coupleId, reason: "invalid-output" });
      continue;
    }
    wanted.add(ev.key);
    const row = byKey.get(ev.key);
    const url = caldavObjectUrl(calendarUrl, connectionId, ev.key);
    if (row?.status === "active" && row.calendarId === calendarUrl && row.payloadHash === ev.hash) {
      result.unchanged++;
      continue;
    }
    const ours = render(caldavUid(connectionId, ev.key), ev);
    if (!row || row.status === "deleted") {
      await create(ev, url, ours);
    } else if (row.calendarId !== calendarUrl) {
      // The vendor chose another calendar: move the event there.
      await api.remove(row.providerEventId, row.etag);
      await create(ev, url, ours);
    } else {
      await update(ev, url, row.etag, ours);
    }
  }

  for (const row of rows) {
    if (row.status !== "active" || wanted.has(row.eventKey)) continue;
    await api.remove(row.providerEventId, row.etag);
    await markDeleted(ctx, connectionId, row.eventKey);
    result.deleted++;
  }

  ctx.log.info({ connectionId, ...result, skipped: result.skipped.length }, "caldav calendar sync");
  return result;
}

async function markDeleted(ctx: HubContext, connectionId: string, eventKey: string) {
  await ctx.db
    .update(calendarEvents)
    .set({ status: "deleted", updatedAt: new Date() })
    .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, eventKey)));
}

/** Delete every event the hub put in this CalDAV calendar (the vendor disconnected and asked us to clean up). */
export async function removeCalDavEvents(ctx: HubContext, connectionId: string, opts: CalDavOptions = {}): Promise<number> {
  const session = await openCalDav(ctx, connectionId, { ...opts, allowInactive: true });
  const api = objectApi(session);
  const rows = await ctx.db
    .select()
    .from(calendarEvents)
    .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.status, "active")));
  for (const row of rows) {
    await api.remove(row.providerEventId, row.etag);
    await markDeleted(ctx, connectionId, row.eventKey);
  }
  return rows.length;
}
