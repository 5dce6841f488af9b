// Pull a vendor's busy times from its CalDAV calendar (Apple iCloud) into
// availability_blocks, incrementally, mirroring google-pull.server.ts.
//
// WebDAV sync-collection (RFC 6578): the first pull (no stored token) lists
// every object and REPLACES the connection's blocks; the server's sync-token is
// stored in calendar_sync_state and later pulls get only what changed since
// (deleted objects as 404 members), applied one by one. A token the server no
// longer accepts (403/409 valid-sync-token, Radicale and iCloud alike) means a
// full resync, as Google's 410 does. A server without sync-collection falls
// back to the collection's CTag: unchanged CTag, no work; changed, a full
// listing (calendar-query). The stored token then reads "ctag:<value>".
//
// One block per calendar object (externalId = the object's URL), from its main
// VEVENT (a recurring series is one block at its first occurrence, as Google's
// unexpanded listing gives). The hub's own events (UID ending in
// HUB_UID_SUFFIX, see caldav-push.server.ts) are ignored.
import { applyAvailabilityChanges } from "./availability-store.server";
import { eq } from "drizzle-orm";
import type { DAVResponse } from "tsdav";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { calendarSyncState } from "../../db/schema";
import { TARGETS, type AvailabilityBlock } from "../mapping/targets";
import { CalDavError, openCalDav, type CalDavOptions, type CalDavSession } from "./caldav-client.server";
import { eventTimes, masterEvent, parseCalendar } from "./caldav-ical";
import { HUB_UID_SUFFIX } from "./caldav-push.server";
import type { CalendarPullResult } from "./provider";

const CTAG_PREFIX = "ctag:";
const OBJECT_PROPS = { "d:getetag": {}, "c:calendar-data": {} };
const VEVENT_FILTER = {
  "c:comp-filter": { _attributes: { name: "VCALENDAR" }, "c:comp-filter": { _attributes: { name: "VEVENT" } } },
};

export interface CalDavPullOptions extends CalDavOptions {
  /** Test hook: behave as against a server without sync-collection (CTag fallback). */
  withoutSyncCollection?: boolean;
}

export interface SkippedCalDavObject {
  url: string;
  reason: "not-an-event" | "invalid-block";
  message?: string;
}

export interface CalDavPullResult extends CalendarPullResult {
  skippedObjects: SkippedCalDavObject[];
}

/** A member of a listing: changed (with its text when the server sent it) or deleted. */
interface Member {
  url: string;
  deleted: boolean;
  data?: string;
}

/** What tsdav leaves of the XML for one member: text values, or {_cdata} for CDATA sections. */
const textValue = z.union([z.string(), z.object({ _cdata: z.string() }).transform((v) => v._cdata)]);
const memberProps = z.object({ calendarData: textValue.optional() }).loose();
const multistatusRaw = z.object({
  multistatus: z
    .object({ syncToken: z.union([z.string(), z.object({ _text: z.string() }).transform((v) => v._text)]).optional() })
    .loose(),
});

/** A listing's members, or the status of a request the server refused as a whole. */
function readListing(s: CalDavSession, res: DAVResponse[]): { members: Member[]; syncToken?: string } | { refused: DAVResponse } {
  const raw = multistatusRaw.safeParse(res[0]?.raw);
  if (!raw.success) return { refused: res[0] ?? { status: 0, statusText: "empty answer", ok: false } };
  const members: Member[] = [];
  for (const r of res) {
    if (!r.href) continue;
    const url = new URL(r.href, s.calendarUrl).href;
    if (url === s.calendarUrl) continue;
    if (r.status === 404) {
      members.push({ url, deleted: true });
      continue;
    }
    if (!r.ok) continue;
    const props = memberProps.safeParse(r.props ?? {});
    members.push({ url, deleted: false, data: props.success ? props.data.calendarData : undefined });
  }
  return { members, syncToken: raw.data.multistatus.syncToken };
}

const refusal = (r: DAVResponse, what: string) =>
  new CalDavError(`${what}: CalDAV server answered ${r.status} ${r.statusText}`, r.status || undefined);

/** Did the server refuse the request because of our sync token (RFC 6578 DAV:valid-sync-token)? */
const staleToken = (r: DAVResponse) =>
  r.status === 409 || r.status === 410 || (r.status === 403 && JSON.stringify(r.raw ?? "").includes("validSyncToken"));

/** A server that does not do sync-collection (on this collection). */
const noSyncCollection = (r: DAVResponse) => [400, 403, 405, 501].includes(r.status) && !staleToken(r);

type Built = { kind: "block"; block: AvailabilityBlock } | { kind: "hub" } | { kind: "skip"; skip: SkippedCalDavObject };

/** A VEVENT's busy state: TRANSP:TRANSPARENT and cancelled events are free, tentative ones tentative. */
function busyStatus(transp: unknown, status: unknown): AvailabilityBlock["status"] {
  const t = typeof transp === "string" ? transp.toUpperCase() : "";
  const st = typeof status === "string" ? status.toUpperCase() : "";
  if (t === "TRANSPARENT" || st === "CANCELLED") return "free";
  return st === "TENTATIVE" ? "tentative" : "busy";
}

export function blockFromObject(url: string, data: string): Built {
  const cal = parseCalendar(data);
  const vevent = cal && masterEvent(cal);
  if (!vevent) return { kind: "skip", skip: { url, reason: "not-an-event" } };
  const uid = vevent.getFirstPropertyValue("uid");
  if (typeof uid === "string" && uid.endsWith(HUB_UID_SUFFIX)) return { kind: "hub" };
  try {
    const times = eventTimes(vevent);
    const summary = vevent.getFirstPropertyValue("summary");
    const candidate = {
      externalId: url,
      ...times,
      status: busyStatus(vevent.getFirstPropertyValue("transp"), vevent.getFirstPropertyValue("status")),
      ...(typeof summary === "string" && summary !== "" ? { summary: summary.slice(0, 500) } : {}),
    };
    const parsed = TARGETS["availability-block"].schema.safeParse(candidate);
    if (!parsed.success) return { kind: "skip", skip: { url, reason: "invalid-block", message: parsed.error.message } };
    return { kind: "block", block: candidate };
  } catch (err) {
    return { kind: "skip", skip: { url, reason: "invalid-block", message: err instanceof Error ? err.message : String(err) } };
  }
}

export async function pullCalDavAvailability(
  ctx: HubContext,
  connectionId: string,
  opts: CalDavPullOptions = {},
): Promise<CalDavPullResult> {
  const s = await openCalDav(ctx, connectionId, opts);
  const { conn, client, calendarUrl } = s;

  /** sync-collection from a token (none = everything); the refusal when the server says no. */
  const syncCollection = async (token: string | undefined) => {
    let res: DAVResponse[];
    try {
      res = await client.syncCollection({ url: calendarUrl, props: OBJECT_PROPS, syncLevel: 1, syncToken: token });
    } catch (err) {
      throw s.wrap(err, "CalDAV sync-collection failed");
    }
    return readListing(s, res);
  };

  /** Every VEVENT object with calendar-query: the listing of a server without sync-collection. */
  const queryAll = async () => {
    let res: DAVResponse[];
    try {
      res = await client.calendarQuery({ url: calendarUrl, props: OBJECT_PROPS, filters: VEVENT_FILTER, depth: "1" });
    } catch (err) {
      throw s.wrap(err, "CalDAV calendar-query failed");
    }
    const listing = readListing(s, res);
    if ("refused" in listing) throw refusal(listing.refused, "CalDAV calendar-query");
    return listing.members;
  };

  const currentCtag = async (): Promise<string | undefined> => {
    try {
      return (await client.isCollectionDirty({ collection: { url: calendarUrl } })).newCtag;
    } catch (err) {
      throw s.wrap(err, "Reading the CalDAV calendar's CTag failed");
    }
  };

  const [state] = await ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
  const stored = state?.syncToken && state.calendarId === calendarUrl ? state.syncToken : undefined;

  let members: Member[] | undefined;
  let nextToken: string | undefined;
  let fullSync = false;
  /** The CTag route: nothing to do while the CTag stands, else list everything. */
  const viaCtag = async (storedCtag: string | undefined) => {
    const ctag = await currentCtag();
    nextToken = ctag ? `${CTAG_PREFIX}${ctag}` : undefined;
    if (storedCtag && ctag === storedCtag) {
      members = [];
      return;
    }
    members = await queryAll();
    fullSync = true;
  };

  if (opts.withoutSyncCollection || stored?.startsWith(CTAG_PREFIX)) {
    await viaCtag(stored?.startsWith(CTAG_PREFIX) ? stored.slice(CTAG_PREFIX.length) : undefined);
  } else {
    fullSync = !stored;
    let listing = await syncCollection(stored);
    if ("refused" in listing && stored && staleToken(listing.refused)) {
      ctx.log.info({ connectionId, calendarUrl }, "caldav sync token refused: full resync");
      await ctx.db.update(calendarSyncState).set({ syncToken: null }).where(eq(calendarSyncState.connectionId, connectionId));
      fullSync = true;
      listing = await syncCollection(undefined);
    }
    if ("refused" in listing) {
      if (!noSyncCollection(listing.refused)) throw refusal(listing.refused, "CalDAV sync-collection");
      ctx.log.info({ connectionId, calendarUrl, status: listing.refused.status }, "no caldav sync-collection: ctag fallback");
      await viaCtag(undefined);
    } else {
      members = listing.members;
      // Without a token (a server that sends none) the next pull is a full one again.
      nextToken = listing.syncToken;
    }
  }
  const listed = members ?? [];

  // sync-collection may leave the object text out: fetch those with one calendar-multiget.
  const missing = listed.filter((m) => !m.deleted && m.data === undefined).map((m) => m.url);
  if (missing.length) {
    let res: DAVResponse[];
    try {
      res = await client.calendarMultiGet({ url: calendarUrl, props: OBJECT_PROPS, objectUrls: missing, depth: "1" });
    } catch (err) {
      throw s.wrap(err, "CalDAV calendar-multiget failed");
    }
    const got = readListing(s, res);
    if ("refused" in got) throw refusal(got.refused, "CalDAV calendar-multiget");
    const byUrl = new Map(got.members.map((m) => [m.url, m]));
    for (const m of listed) if (m.data === undefined && !m.deleted) m.data = byUrl.get(m.url)?.data;
  }

  const result: CalDavPullResult = { fullSync, upserted: 0, deleted: 0, skipped: 0, ignored: 0, skippedObjects: [] };
  const upserts: AvailabilityBlock[] = [];
  const removals: string[] = [];
  for (const m of listed) {
    if (m.deleted || m.data === undefined) {
      removals.push(m.url);
      continue;
    }
    const built = blockFromObject(m.url, m.data);
    if (built.kind === "hub") {
      result.ignored++;
      removals.push(m.url); // never a vendor block
    } else if (built.kind === "skip") {
      result.skipped++;
      result.skippedObjects.push(built.skip);
      removals.push(m.url); // a block from the object's older state would be stale
    } else {
      upserts.push(built.block);
    }
  }

  const now = new Date();
  const applied = await applyAvailabilityChanges(ctx.db, {
    connectionId,
    supplierId: conn.supplierId,
    calendarId: calendarUrl,
    upserts,
    removals,
    fullSync,
    syncToken: nextToken ?? null,
    now,
  });
  result.upserted = applied.upserted;
  result.deleted = applied.deleted;

  const { skippedObjects: _details, ...counts } = result;
  ctx.log.info({ connectionId, ...counts }, "caldav availability pull");
  return result;
}
