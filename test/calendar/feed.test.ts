// The vendor's private iCal feed over a real hub and PostgreSQL: the body is
// read back with ical.js (Mozilla's parser, independent of the writer), the
// URL behaves like a credential (hash at rest, one 404 for every bad token,
// not in the logs), and polling is cheap (strong ETag, 304).
import { Writable } from "node:stream";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import ICAL from "ical.js";
import { auditLog, calendarFeeds, coreFields } from "../../db/schema";
import { updateCoreFields } from "../../app/core-fields/write.server";
import { systemPrincipal } from "../../app/core-fields/principal";
import { FormClient } from "../helpers/form-client";
import { makeCouple, makeSupplier, makeUser, startTestHub } from "../helpers/hub";

const PAGE = "/vendor/calendar-feed";
const FEED_URL = /(http:\/\/[^"<\s]+\/calendar\/feeds\/(whcal_[A-Za-z0-9_-]{43})\.ics)/;

let hub: Awaited<ReturnType<typeof startTestHub>>;
let logs = "";

beforeAll(async () => {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs += chunk.toString();
      cb();
    },
  });
  hub = await startTestHub({ logTo: stream });
});
afterAll(async () => {
  await hub?.stop();
});

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** A supplier with a signed-in vendor on the Calendar feed page. */
async function vendor() {
  const supplier = await makeSupplier(hub.ctx.db);
  const { email, password } = await makeUser(hub.ctx.db, "vendor", supplier.id);
  const client = new FormClient(hub.url);
  await client.signIn(email, password);
  const page = await client.get(PAGE);
  expect(page.status).toBe(200);
  return { supplier, client };
}

/** Create a feed through the page; the response is the one place the URL appears. */
async function createThroughPage(client: FormClient) {
  const res = await client.post(PAGE, { intent: "create" });
  expect(res.status).toBe(200);
  const m = FEED_URL.exec(res.text);
  expect(m, "the response shows the new feed URL").not.toBeNull();
  return { url: m![1]!, token: m![2]!, page: res.text };
}

const feedRows = (supplierId: string) => hub.ctx.db.select().from(calendarFeeds).where(eq(calendarFeeds.supplierId, supplierId));

function parse(body: string) {
  const cal = new ICAL.Component(ICAL.parse(body));
  const events = cal.getAllSubcomponents("vevent").map((c) => ({ component: c, event: new ICAL.Event(c) }));
  return { cal, events };
}

function eventFor(events: ReturnType<typeof parse>["events"], coupleId: string) {
  const found = events.find((e) => e.event.uid === `${coupleId}:ceremony@hub.wedsync`);
  expect(found, `an event for couple ${coupleId}`).toBeDefined();
  return found!;
}

describe("creating and listing feeds on the vendor page", () => {
  it("shows the URL once, stores only its SHA-256 and last 4 characters, and audits", async () => {
    const { supplier, client } = await vendor();
    const empty = await client.get(PAGE);
    expect(empty.text).toContain("No feed URLs yet");

    const { url, token } = await createThroughPage(client);
    expect(url.startsWith(`${hub.url}/calendar/feeds/`)).toBe(true);

    const [row, ...more] = await feedRows(supplier.id);
    expect(more).toHaveLength(0);
    expect(row!.tokenHash).toBe(sha256(token));
    expect(row!.tokenHint).toBe(token.slice(-4));
    expect(row!.revokedAt).toBeNull();
    const raw = (
      await hub.ctx.db.execute<{ t: string }>(sql`select row_to_json(f)::text t from calendar_feeds f where id = ${row!.id}`)
    ).rows[0]!.t;
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(token.slice(6, 30));

    // Listed by its hint, never by the token again.
    const later = await client.get(PAGE);
    expect(later.text).not.toContain(token);
    expect(later.text).toContain(`…${row!.tokenHint}`);
    expect(later.text).not.toContain("No feed URLs yet");

    const [audit] = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.entityId} = ${row!.id} and ${auditLog.action} = 'calendar_feed.create'`);
    expect(audit).toMatchObject({ entityType: "calendar_feed", actorType: "user" });
    expect(JSON.stringify(audit)).not.toContain(token);
  });
});

describe("the feed", () => {
  it("holds exactly the supplier's dated weddings, all-day and timed, as valid iCalendar", async () => {
    const { supplier, client } = await vendor();
    const other = await makeSupplier(hub.ctx.db);
    const timed = await makeCouple(hub.ctx.db, [supplier.id], {
      weddingDate: "2027-06-12",
      timezone: "Europe/London",
      ceremonyTime: "14:00",
      receptionTime: "18:30",
      partner1Name: "Ada",
      partner2Name: "Grace",
      venueName: "Kew Gardens",
    });
    const allDay = await makeCouple(hub.ctx.db, [supplier.id, other.id], { weddingDate: "2027-08-01", partner1Name: "Lin" });
    await makeCouple(hub.ctx.db, [supplier.id], { partner1Name: "No Date Yet" });
    await makeCouple(hub.ctx.db, [other.id], { weddingDate: "2027-09-09", partner1Name: "Someone Else's" });

    const { url } = await createThroughPage(client);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, max-age=300");
    expect(res.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    const body = await res.text();

    // RFC 5545 §3.1: every content line ends with CRLF, no bare CR or LF.
    expect(body.startsWith("BEGIN:VCALENDAR\r\n")).toBe(true);
    expect(body.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(body.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);

    const { cal, events } = parse(body);
    expect(cal.name).toBe("vcalendar");
    expect(cal.getFirstPropertyValue("version")).toBe("2.0");
    expect(String(cal.getFirstPropertyValue("prodid"))).toContain("WedSync");
    expect(events.map((e) => e.event.uid).sort()).toEqual(
      [`${timed}:ceremony@hub.wedsync`, `${allDay}:ceremony@hub.wedsync`].sort(),
    );
    for (const { component } of events) {
      expect(component.getFirstPropertyValue("uid")).toBeTruthy();
      expect(component.getFirstPropertyValue("dtstamp")).toBeTruthy();
    }

    const t = eventFor(events, timed).event;
    expect(t.summary).toBe("Wedding: Ada & Grace");
    expect(t.location).toBe("Kew Gardens");
    expect(t.startDate.isDate).toBe(false);
    // 14:00 and 18:30 in London in June (BST, UTC+1).
    expect(t.startDate.toJSDate().toISOString()).toBe("2027-06-12T13:00:00.000Z");
    expect(t.endDate.toJSDate().toISOString()).toBe("2027-06-12T17:30:00.000Z");

    const a = eventFor(events, allDay).event;
    expect(a.summary).toBe("Wedding: Lin");
    expect(a.startDate.isDate).toBe(true);
    expect(a.startDate.toString()).toBe("2027-08-01");
    expect(a.endDate.toString()).toBe("2027-08-02");

    // DTSTAMP is when the couple's core fields last changed (to the second), not the time of the request.
    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, timed));
    const stamp = eventFor(events, timed).component.getFirstPropertyValue("dtstamp") as ICAL.Time;
    expect(stamp.toJSDate().getTime()).toBe(Math.floor(cf!.updatedAt.getTime() / 1000) * 1000);
  });

  it("is byte-identical between polls, answers If-None-Match with 304 and HEAD without a body, and changes with the couple", async () => {
    const { supplier, client } = await vendor();
    const coupleId = await makeCouple(hub.ctx.db, [supplier.id], { weddingDate: "2027-05-01", partner1Name: "Noor" });
    const { url } = await createThroughPage(client);

    const first = await fetch(url);
    const firstBody = await first.text();
    const etag = first.headers.get("etag")!;
    const [fetched] = await feedRows(supplier.id);
    expect(fetched!.lastFetchedAt).not.toBeNull();

    await new Promise((r) => setTimeout(r, 1100)); // a DTSTAMP of "now" would now differ
    const second = await fetch(url);
    expect(second.headers.get("etag")).toBe(etag);
    expect(await second.text()).toBe(firstBody);
    // lastFetchedAt is written at most once a minute, not on every poll.
    const [again] = await feedRows(supplier.id);
    expect(again!.lastFetchedAt!.getTime()).toBe(fetched!.lastFetchedAt!.getTime());

    const notModified = await fetch(url, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(await notModified.text()).toBe("");
    const weak = await fetch(url, { headers: { "If-None-Match": `"other", W/${etag}` } });
    expect(weak.status).toBe(304);

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    expect(head.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(await head.text()).toBe("");

    await updateCoreFields(hub.ctx.db, systemPrincipal("test", "staff"), {
      coupleId,
      patch: { weddingDate: "2027-05-08" },
      expectedVersion: "current",
    });
    const changed = await fetch(url, { headers: { "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    const newEtag = changed.headers.get("etag");
    expect(newEtag).not.toBe(etag);
    const { events } = parse(await changed.text());
    expect(events).toHaveLength(1);
    expect(events[0]!.event.startDate.toString()).toBe("2027-05-08");
    expect(events[0]!.component.getFirstPropertyValue("sequence")).toBe(1);
    expect((await fetch(url, { headers: { "If-None-Match": newEtag! } })).status).toBe(304);
  });

  it("answers the same 404 for an unknown, a malformed and a revoked token", async () => {
    const { client } = await vendor();
    const { url, token } = await createThroughPage(client);
    expect((await fetch(url)).status).toBe(200);

    const base = `${hub.url}/calendar/feeds/`;
    const unknown = `whcal_${crypto.randomBytes(32).toString("base64url")}`;
    const bodies: string[] = [];
    for (const bad of [unknown, "whcal_short", "not-a-token", `${token}x`, token.replace("whcal_", "whub_")]) {
      const res = await fetch(`${base}${bad}.ics`);
      expect(res.status, bad).toBe(404);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(res.headers.get("etag")).toBeNull();
      bodies.push(await res.text());
    }

    const feedId = (/name="feedId" value="([^"]+)"/.exec((await client.get(PAGE)).text) ?? [])[1]!;
    const revoked = await client.post(PAGE, { intent: "revoke", feedId });
    expect(revoked.status).toBe(200);
    expect(revoked.text).toContain("Feed revoked");
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    bodies.push(await gone.text());
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toMatch(/not found/i);
    expect((await fetch(url, { method: "HEAD" })).status).toBe(404);

    // Revoking twice is "not found" too, and the page lists it as revoked.
    expect((await client.post(PAGE, { intent: "revoke", feedId })).status).toBe(404);
    expect((await client.get(PAGE)).text).toContain("Revoked");
    const [audit] = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.entityId} = ${feedId} and ${auditLog.action} = 'calendar_feed.revoke'`);
    expect(audit).toMatchObject({ entityType: "calendar_feed", actorType: "user" });
  });

  it("cannot be revoked by another vendor (404), and stays live", async () => {
    const owner = await vendor();
    const { url } = await createThroughPage(owner.client);
    const [feed] = await feedRows(owner.supplier.id);

    const intruder = await vendor();
    const attempt = await intruder.client.post(PAGE, { intent: "revoke", feedId: feed!.id });
    expect(attempt.status).toBe(404);
    expect((await intruder.client.post(PAGE, { intent: "revoke", feedId: "not-a-uuid" })).status).toBe(404);
    // The intruder's page does not list it either.
    expect((await intruder.client.get(PAGE)).text).not.toContain(feed!.id);

    const [still] = await feedRows(owner.supplier.id);
    expect(still!.revokedAt).toBeNull();
    expect((await fetch(url)).status).toBe(200);

    // And a form without the CSRF token is refused before anything happens.
    expect((await owner.client.post(PAGE, { intent: "revoke", feedId: feed!.id }, { withCsrf: false })).status).toBe(403);
    expect((await feedRows(owner.supplier.id))[0]!.revokedAt).toBeNull();
  });

  it("keeps feed tokens out of the request log", async () => {
    const { client } = await vendor();
    const { token } = await createThroughPage(client);
    await fetch(`${hub.url}/calendar/feeds/${token}.ics`);
    await new Promise((r) => setTimeout(r, 50));
    expect(logs).toContain(`/calendar/feeds/[redacted]${token.slice(-4)}.ics`);
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.slice(6, 30));
  });
});
