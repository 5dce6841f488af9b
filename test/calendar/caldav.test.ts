// The Apple/CalDAV calendar provider against a real CalDAV server (Radicale)
// through tsdav: push with deterministic object names (If-None-Match: * on
// create, If-Match on update and delete), a stale ETag handled without a blind
// overwrite, crash recovery by adoption, and the availability pull with
// sync-collection (incremental, stale token -> full resync, CTag fallback),
// the hub's own events ignored. Once through runCalendarSync for the registry.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { availabilityBlocks, calendarEvents, calendarSyncState, connections, coreFields, supplierCouples } from "../../db/schema";
import { caldavObjectUrl, caldavUid, syncCalDavCalendar, removeCalDavEvents } from "../../app/calendar/caldav-push.server";
import { pullCalDavAvailability } from "../../app/calendar/caldav-pull.server";
import { runCalendarSync } from "../../app/calendar/sync.server";
import { providerStatus } from "../../app/calendar/provider";
import { makeCouple, makeSupplier, startTestHub } from "../helpers/hub";
import { startRadicale, type Radicale } from "../helpers/radicale";

const USER = "vendor";
const PASSWORD = "app-pass-1234";
const SOLO = "solo";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let radicale: Radicale;

beforeAll(async () => {
  [hub, radicale] = await Promise.all([startTestHub(), startRadicale({ [USER]: PASSWORD, [SOLO]: PASSWORD })]);
});
afterAll(async () => {
  await radicale?.stop();
  await hub?.stop();
});

const auth = (user = USER) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;

/** The vendor's own client (their phone, iCloud web): plain HTTP with their password. */
async function vendor(url: string, init: RequestInit = {}, user = USER): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", auth(user));
  return fetch(url, { ...init, headers });
}

async function makeCalendar(user = USER): Promise<string> {
  const url = `${radicale.url}/${user}/${crypto.randomBytes(6).toString("hex")}/`;
  const res = await vendor(url, { method: "MKCALENDAR" }, user);
  expect(res.status).toBe(201);
  return url;
}

/** Every object in the calendar on the server: url -> text. */
async function serverObjects(calendarUrl: string): Promise<Map<string, string>> {
  const res = await vendor(calendarUrl, {
    method: "REPORT",
    headers: { depth: "1", "content-type": "application/xml" },
    body: `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
      <d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>`,
  });
  const xml = await res.text();
  const out = new Map<string, string>();
  // Radicale answers with DAV: as the default namespace and CalDAV as C:.
  for (const m of xml.matchAll(/<href>([^<]+)<\/href>[\s\S]*?<C:calendar-data>([\s\S]*?)<\/C:calendar-data>/g))
    out.set(
      new URL(m[1]!, calendarUrl).href,
      m[2]!
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&")
        .replace(/\r?\n[ \t]/g, ""), // unfold long lines
    );
  return out;
}

interface Logged {
  method: string;
  url: string;
  status: number;
  ifMatch: string | null;
  ifNoneMatch: string | null;
}

/** A fetch that records every request the hub makes to the CalDAV server. */
function recordingFetch() {
  const log: Logged[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const headers = new Headers(init?.headers);
    log.push({
      method: init?.method ?? "GET",
      url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      status: res.status,
      ifMatch: headers.get("if-match"),
      ifNoneMatch: headers.get("if-none-match"),
    });
    return res;
  };
  return { log, fetch: wrapped, writes: () => log.filter((l) => l.method === "PUT" || l.method === "DELETE") };
}

const day = (n: number) => `2027-06-${String(1 + (n % 28)).padStart(2, "0")}`;

async function setup(n: number, opts: { calendarUrl?: string | null; password?: string; user?: string } = {}) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const calendarUrl = opts.calendarUrl === null ? undefined : (opts.calendarUrl ?? (await makeCalendar()));
  const [conn] = await db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "apple-calendar",
      accountLabel: opts.user ?? USER,
      credentialsEnc: hub.ctx.vault.encryptJson({
        serverUrl: radicale.url,
        username: opts.user ?? USER,
        password: opts.password ?? PASSWORD,
      }),
      settings: calendarUrl ? { calendarId: calendarUrl } : {},
    })
    .returning();
  const connectionId = conn!.id;
  const coupleIds: string[] = [];
  for (let i = 0; i < n; i++)
    coupleIds.push(
      await makeCouple(db, [supplier.id], {
        weddingDate: day(i),
        timezone: "Europe/London",
        ceremonyTime: "14:00",
        receptionTime: "18:30",
        partner1Name: `Partner ${i}`,
      }),
    );
  const rec = recordingFetch();
  const push = (o: Parameters<typeof syncCalDavCalendar>[2] = {}) =>
    syncCalDavCalendar(hub.ctx, connectionId, { fetch: rec.fetch, ...o });
  const pull = (o: Parameters<typeof pullCalDavAvailability>[2] = {}) =>
    pullCalDavAvailability(hub.ctx, connectionId, { fetch: rec.fetch, ...o });
  const rows = () => db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
  const blocks = async () =>
    (await db.select().from(availabilityBlocks).where(eq(availabilityBlocks.connectionId, connectionId))).sort((a, b) =>
      a.externalId.localeCompare(b.externalId),
    );
  const urlOf = (coupleId: string) => caldavObjectUrl(calendarUrl!, connectionId, `${coupleId}:ceremony`);
  return { supplier, connectionId, calendarUrl: calendarUrl!, coupleIds, rec, push, pull, rows, blocks, urlOf };
}

async function bumpFields(coupleId: string, patch: Record<string, unknown>) {
  const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
  await hub.ctx.db
    .update(coreFields)
    .set({ fields: { ...cf!.fields, ...patch }, version: cf!.version + 1 })
    .where(eq(coreFields.coupleId, coupleId));
}

/** A vendor-made event, the way Apple Calendar writes one (CRLF lines, its own UID). */
function vendorEvent(uid: string, lines: string[]): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Apple Inc.//macOS 15.0//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20270101T000000Z",
    ...lines,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

async function putVendorEvent(calendarUrl: string, name: string, ics: string, user = USER): Promise<string> {
  const url = new URL(`${name}.ics`, calendarUrl).href;
  const res = await vendor(url, { method: "PUT", body: ics, headers: { "content-type": "text/calendar; charset=utf-8" } }, user);
  expect(res.status).toBeLessThan(300);
  return url;
}

describe("CalDAV push", () => {
  it("creates with If-None-Match, updates with If-Match, deletes with If-Match; an unchanged re-sync writes nothing", async () => {
    const { push, rec, rows, calendarUrl, connectionId, coupleIds, urlOf, supplier } = await setup(3);
    expect(await push()).toMatchObject({ inserted: 3, adopted: 0, updated: 0, deleted: 0, unchanged: 0 });
    expect(rec.writes()).toHaveLength(3);
    expect(rec.writes().every((w) => w.method === "PUT" && w.ifNoneMatch === "*" && w.status === 201)).toBe(true);

    const objects = await serverObjects(calendarUrl);
    expect(objects.size).toBe(3);
    const first = objects.get(urlOf(coupleIds[0]!))!;
    expect(first).toContain(`UID:${caldavUid(connectionId, `${coupleIds[0]}:ceremony`)}`);
    expect(first).toContain("SUMMARY:Wedding: Partner 0");
    expect(first).toContain("DTSTART:20270601T130000Z"); // 14:00 BST
    const stored = await rows();
    expect(stored).toHaveLength(3);
    for (const r of stored) {
      expect(r).toMatchObject({ status: "active", calendarId: calendarUrl });
      const head = await vendor(r.providerEventId, { method: "GET" });
      expect(r.etag).toBe(head.headers.get("etag"));
    }

    // Re-sync without a change: no write at all.
    rec.log.length = 0;
    expect(await push()).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: 3 });
    expect(rec.writes()).toEqual([]);

    // A new wedding date: one PUT with If-Match on the stored ETag.
    const before = stored.find((r) => r.providerEventId === urlOf(coupleIds[1]!))!;
    await bumpFields(coupleIds[1]!, { weddingDate: "2027-09-25" });
    expect(await push()).toMatchObject({ updated: 1, unchanged: 2 });
    expect(rec.writes()).toEqual([expect.objectContaining({ method: "PUT", ifMatch: before.etag, status: 201 })]);
    expect((await serverObjects(calendarUrl)).get(urlOf(coupleIds[1]!))).toContain("DTSTART:20270925T130000Z");
    const [after] = await hub.ctx.db
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.providerEventId, urlOf(coupleIds[1]!))));
    expect(after!.etag).not.toBe(before.etag);
    expect(after!.etag).toBe((await vendor(urlOf(coupleIds[1]!))).headers.get("etag"));

    // The couple leaves the supplier: DELETE with If-Match, row marked deleted.
    rec.log.length = 0;
    await hub.ctx.db
      .delete(supplierCouples)
      .where(and(eq(supplierCouples.supplierId, supplier.id), eq(supplierCouples.coupleId, coupleIds[1]!)));
    expect(await push()).toMatchObject({ deleted: 1, unchanged: 2 });
    expect(rec.writes()).toEqual([expect.objectContaining({ method: "DELETE", ifMatch: after!.etag, status: 200 })]);
    expect([...(await serverObjects(calendarUrl)).keys()].sort()).toEqual([urlOf(coupleIds[0]!), urlOf(coupleIds[2]!)].sort());
    expect((await rows()).find((r) => r.providerEventId === urlOf(coupleIds[1]!))!.status).toBe("deleted");
    expect(await push()).toMatchObject({ deleted: 0, unchanged: 2 });

    // Back again: the same deterministic URL (CalDAV keeps no tombstones).
    await hub.ctx.db.insert(supplierCouples).values({ supplierId: supplier.id, coupleId: coupleIds[1]! });
    expect(await push()).toMatchObject({ inserted: 1, unchanged: 2 });
    expect((await serverObjects(calendarUrl)).size).toBe(3);
  });

  it("a stale ETag (the vendor edited the event) is refused by the server, then our fields go over the fresh copy", async () => {
    const { push, rec, rows, calendarUrl, coupleIds, urlOf } = await setup(1);
    await push();
    const url = urlOf(coupleIds[0]!);
    const [row] = await rows();

    // The vendor edits the event on their phone: a new title and an alarm of their own.
    const current = await vendor(url);
    const text = await current.text();
    const edited = text
      .replace(/SUMMARY:[^\r\n]*/, "SUMMARY:My own title")
      .replace(
        "END:VEVENT",
        "CATEGORIES:Vendor\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Pack\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\nEND:VEVENT",
      );
    const put = await vendor(url, {
      method: "PUT",
      body: edited,
      headers: { "content-type": "text/calendar", "if-match": row!.etag! },
    });
    expect(put.status).toBe(201);
    const vendorEtag = put.headers.get("etag");
    expect(vendorEtag).not.toBe(row!.etag);

    await bumpFields(coupleIds[0]!, { guestCount: 150 });
    rec.log.length = 0;
    expect(await push()).toMatchObject({ updated: 1 });

    // The first PUT carried our stale ETag and the server refused it; the retry carried the fresh one.
    const writes = rec.writes();
    expect(writes).toEqual([
      expect.objectContaining({ method: "PUT", url, ifMatch: row!.etag, status: 412 }),
      expect.objectContaining({ method: "PUT", url, ifMatch: vendorEtag, status: 201 }),
    ]);
    expect(rec.log.some((l) => l.method === "GET" && l.url === url)).toBe(true);

    const final = (await serverObjects(calendarUrl)).get(url)!;
    expect(final).toContain("SUMMARY:Wedding: Partner 0"); // the hub owns the title
    expect(final).toContain("Guests: 150");
    expect(final).toContain("CATEGORIES:Vendor"); // what the vendor added is kept
    expect(final).toContain("BEGIN:VALARM");
    expect(final).toMatch(/SEQUENCE:1/);
    expect((await serverObjects(calendarUrl)).size).toBe(1);
    const [after] = await rows();
    expect(after!.etag).toBe((await vendor(url)).headers.get("etag"));

    rec.log.length = 0;
    expect(await push()).toMatchObject({ unchanged: 1 });
    expect(rec.writes()).toEqual([]);
  });

  it("a crash between the server's PUT and our row: the re-sync adopts, nothing is duplicated", async () => {
    const { push, rec, rows, calendarUrl, connectionId } = await setup(6);
    let creates = 0;
    await expect(
      push({
        afterProviderInsert: () => {
          if (++creates === 3) throw new Error("crash after the provider PUT");
        },
      }),
    ).rejects.toThrow("crash after the provider PUT");
    expect((await serverObjects(calendarUrl)).size).toBe(3);
    expect(await rows()).toHaveLength(2);

    expect(await push()).toMatchObject({ inserted: 3, adopted: 1, unchanged: 2 });
    expect((await serverObjects(calendarUrl)).size).toBe(6);

    // Lose every row: the re-sync finds each object under its name (412 on If-None-Match) and adopts it unchanged.
    await hub.ctx.db.delete(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    rec.log.length = 0;
    expect(await push()).toMatchObject({ inserted: 0, adopted: 6, updated: 0 });
    expect(rec.writes()).toHaveLength(6);
    expect(rec.writes().every((w) => w.ifNoneMatch === "*" && w.status === 412)).toBe(true);
    expect((await serverObjects(calendarUrl)).size).toBe(6);
    const stored = await rows();
    expect(stored).toHaveLength(6);
    for (const r of stored) expect(r.etag).toBe((await vendor(r.providerEventId)).headers.get("etag"));

    rec.log.length = 0;
    expect(await push()).toMatchObject({ unchanged: 6 });
    expect(rec.writes()).toEqual([]);
  });

  it("removeAll deletes every hub event and leaves the vendor's own", async () => {
    const { push, rows, calendarUrl, connectionId } = await setup(3);
    await push();
    await putVendorEvent(
      calendarUrl,
      "mine",
      vendorEvent("mine@example", ["DTSTART:20270601T090000Z", "DTEND:20270601T100000Z"]),
    );
    expect(await removeCalDavEvents(hub.ctx, connectionId)).toBe(3);
    expect([...(await serverObjects(calendarUrl)).keys()]).toEqual([new URL("mine.ics", calendarUrl).href]);
    expect((await rows()).every((r) => r.status === "deleted")).toBe(true);
  });
});

describe("CalDAV pull", () => {
  it("reads vendor events into availability blocks, incrementally, ignoring the hub's own", async () => {
    const { push, pull, blocks, calendarUrl, coupleIds } = await setup(2);
    await push();
    const shoot = await putVendorEvent(
      calendarUrl,
      "shoot",
      vendorEvent("shoot@example", [
        "DTSTART;TZID=Europe/London:20270610T100000",
        "DTEND;TZID=Europe/London:20270610T120000",
        "SUMMARY:Engagement shoot",
      ]),
    );
    const holiday = await putVendorEvent(
      calendarUrl,
      "holiday",
      vendorEvent("holiday@example", ["DTSTART;VALUE=DATE:20270801", "DTEND;VALUE=DATE:20270815", "SUMMARY:Holiday"]),
    );
    const maybe = await putVendorEvent(
      calendarUrl,
      "maybe",
      vendorEvent("maybe@example", ["DTSTART:20270620T160000Z", "DURATION:PT90M", "STATUS:TENTATIVE", "SUMMARY:Maybe"]),
    );
    const free = await putVendorEvent(
      calendarUrl,
      "free",
      vendorEvent("free@example", ["DTSTART:20270621T160000Z", "DTEND:20270621T170000Z", "TRANSP:TRANSPARENT"]),
    );

    const first = await pull();
    expect(first).toMatchObject({ fullSync: true, upserted: 4, deleted: 0, skipped: 0, ignored: 2 });
    const comparable = (await blocks()).map(({ externalId, startsAt, endsAt, allDay, status, summary }) => ({
      externalId,
      startsAt,
      endsAt,
      allDay,
      status,
      summary,
    }));
    expect(comparable).toEqual(
      [
        {
          externalId: free,
          startsAt: "2027-06-21T16:00:00Z",
          endsAt: "2027-06-21T17:00:00Z",
          allDay: false,
          status: "free",
          summary: null,
        },
        { externalId: holiday, startsAt: "2027-08-01", endsAt: "2027-08-15", allDay: true, status: "busy", summary: "Holiday" },
        {
          externalId: maybe,
          startsAt: "2027-06-20T16:00:00Z",
          endsAt: "2027-06-20T17:30:00Z",
          allDay: false,
          status: "tentative",
          summary: "Maybe",
        },
        {
          externalId: shoot,
          startsAt: "2027-06-10T10:00:00+01:00",
          endsAt: "2027-06-10T12:00:00+01:00",
          allDay: false,
          status: "busy",
          summary: "Engagement shoot",
        },
      ].sort((a, b) => a.externalId.localeCompare(b.externalId)),
    );

    // Nothing changed: an incremental pull with nothing in it.
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0, ignored: 0 });

    // The vendor moves one event, deletes another and adds one; the hub's own event changes too.
    await putVendorEvent(
      calendarUrl,
      "shoot",
      vendorEvent("shoot@example", ["DTSTART:20270611T100000Z", "DTEND:20270611T110000Z", "SUMMARY:Engagement shoot (moved)"]),
    );
    expect((await vendor(holiday, { method: "DELETE" })).status).toBe(200);
    const extra = await putVendorEvent(
      calendarUrl,
      "extra",
      vendorEvent("extra@example", ["DTSTART:20270701T100000Z", "DTEND:20270701T110000Z"]),
    );
    await bumpFields(coupleIds[0]!, { guestCount: 42 });
    await push();

    const third = await pull();
    expect(third).toMatchObject({ fullSync: false, upserted: 2, deleted: 1, ignored: 1 });
    const after = await blocks();
    expect(after.map((b) => b.externalId).sort()).toEqual([extra, free, maybe, shoot].sort());
    expect(after.find((b) => b.externalId === shoot)).toMatchObject({
      startsAt: "2027-06-11T10:00:00Z",
      summary: "Engagement shoot (moved)",
    });
  });

  it("a sync token the server refuses means a full resync", async () => {
    const { pull, blocks, calendarUrl, connectionId } = await setup(0);
    await putVendorEvent(calendarUrl, "a", vendorEvent("a@example", ["DTSTART:20270601T090000Z", "DTEND:20270601T100000Z"]));
    expect(await pull()).toMatchObject({ fullSync: true, upserted: 1 });
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state).toMatchObject({ calendarId: calendarUrl });
    expect(state!.syncToken).toMatch(/^http:\/\/radicale\.org\/ns\/sync\//);

    // A token the server never issued (or has forgotten): 403 DAV:valid-sync-token.
    await hub.ctx.db
      .update(calendarSyncState)
      .set({ syncToken: `http://radicale.org/ns/sync/${"0".repeat(64)}` })
      .where(eq(calendarSyncState.connectionId, connectionId));
    // A block for an object gone while the token was bad disappears with the full resync.
    await hub.ctx.db.insert(availabilityBlocks).values({
      connectionId,
      supplierId: (await blocks())[0]!.supplierId,
      externalId: new URL("ghost.ics", calendarUrl).href,
      startsAt: "2027-06-02",
      endsAt: "2027-06-03",
      allDay: true,
      status: "busy",
    });
    expect(await pull()).toMatchObject({ fullSync: true, upserted: 1, deleted: 1 });
    expect((await blocks()).map((b) => b.externalId)).toEqual([new URL("a.ics", calendarUrl).href]);
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0 });
  });

  it("falls back to the CTag on a server without sync-collection", async () => {
    const { pull, blocks, calendarUrl, connectionId, rec } = await setup(0);
    await putVendorEvent(calendarUrl, "a", vendorEvent("a@example", ["DTSTART:20270601T090000Z", "DTEND:20270601T100000Z"]));
    expect(await pull({ withoutSyncCollection: true })).toMatchObject({ fullSync: true, upserted: 1 });
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state!.syncToken).toMatch(/^ctag:/);

    rec.log.length = 0;
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0 });
    expect(rec.log.filter((l) => l.method === "REPORT")).toEqual([]); // the CTag alone said "nothing new"

    await vendor(new URL("a.ics", calendarUrl).href, { method: "DELETE" });
    await putVendorEvent(calendarUrl, "b", vendorEvent("b@example", ["DTSTART:20270602T090000Z", "DTEND:20270602T100000Z"]));
    expect(await pull()).toMatchObject({ fullSync: true, upserted: 1, deleted: 1 });
    expect((await blocks()).map((b) => b.externalId)).toEqual([new URL("b.ics", calendarUrl).href]);
  });
});

describe("apple-calendar through the sync runner", () => {
  it("pushes and pulls via the registry, discovering the account's calendar", async () => {
    const calendarUrl = await makeCalendar(SOLO);
    const { connectionId } = await setup(2, { calendarUrl: null, user: SOLO });
    await putVendorEvent(
      calendarUrl,
      "x",
      vendorEvent("x@example", ["DTSTART:20270601T090000Z", "DTEND:20270601T100000Z"]),
      SOLO,
    );

    const outcome = await runCalendarSync(hub.ctx, connectionId);
    expect(outcome).toMatchObject({
      status: "synced",
      push: { inserted: 2, skipped: 0 },
      pull: { fullSync: true, upserted: 1, ignored: 2 },
    });
    const rows = await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    expect(rows.every((r) => r.calendarId === calendarUrl)).toBe(true);
    expect(await runCalendarSync(hub.ctx, connectionId)).toMatchObject({
      push: { unchanged: 2 },
      pull: { fullSync: false, upserted: 0 },
    });
  });

  it("a refused password surfaces as 401 for the runner's policy", async () => {
    const { connectionId } = await setup(1, { password: "wrong" });
    const err = await runCalendarSync(hub.ctx, connectionId).catch((e: unknown) => e);
    expect(providerStatus(err)).toBe(401);
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state!.lastError).toBeTruthy();
  });
});
