import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { google } from "googleapis";
import type { calendar_v3 } from "googleapis";
import { GaxiosError } from "googleapis-common";
import { startSimulator } from "../../simulators/harness.js";
import type { RunningSimulator } from "../../simulators/harness.js";
import { createGoogleCalendarSimulator } from "../../simulators/google-calendar/index.js";
import type { GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index.js";

// ---- fixtures ---------------------------------------------------------------

const GOOD_TOKEN = "ya29.sim-good";
const NO_RETRY = { retry: false } as const;

let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;

function calendarClient(accessToken = GOOD_TOKEN): calendar_v3.Calendar {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: accessToken });
  return google.calendar({ version: "v3", auth, rootUrl: `${sim.url}/` });
}

function eventBody(n: number, extra: calendar_v3.Schema$Event = {}): calendar_v3.Schema$Event {
  const day = String(1 + n).padStart(2, "0");
  return {
    summary: `Event ${n}`,
    start: { dateTime: `2027-06-${day}T10:00:00Z`, timeZone: "UTC" },
    end: { dateTime: `2027-06-${day}T11:00:00Z`, timeZone: "UTC" },
    ...extra,
  };
}

/** The SDK's error (GaxiosError) for a call expected to fail. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; data: { error: Record<string, unknown> } }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GaxiosError);
    const e = err as { status?: number; response?: { status: number; data: { error: Record<string, unknown> } } };
    expect(e.response).toBeDefined();
    expect(e.status).toBe(e.response!.status);
    return { status: e.response!.status, data: e.response!.data };
  }
  throw new Error("expected the call to fail");
}

async function listAll(cal: calendar_v3.Calendar, params: calendar_v3.Params$Resource$Events$List) {
  const pages: calendar_v3.Schema$Events[] = [];
  let pageToken: string | undefined;
  do {
    const res = await cal.events.list({ ...params, ...(pageToken ? { pageToken } : {}) }, NO_RETRY);
    pages.push(res.data);
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  return { pages, items: pages.flatMap((p) => p.items ?? []), nextSyncToken: pages.at(-1)!.nextSyncToken };
}

beforeEach(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === GOOD_TOKEN, pageSize: 3 });
  sim = await startSimulator(def);
});

afterEach(async () => {
  await sim.close();
});

// ---- tests ------------------------------------------------------------------

describe("google-calendar simulator (driven by the googleapis SDK)", () => {
  it("lists the primary calendar for the user", async () => {
    const res = await calendarClient().calendarList.list({}, NO_RETRY);
    expect(res.status).toBe(200);
    expect(res.data.kind).toBe("calendar#calendarList");
    expect(res.data.items).toEqual([expect.objectContaining({ id: "primary", primary: true, accessRole: "owner" })]);
  });

  it("inserts, gets, patches with If-Match and deletes an event", async () => {
    const cal = calendarClient();
    const inserted = await cal.events.insert(
      {
        calendarId: "primary",
        requestBody: eventBody(1, { location: "Barn", extendedProperties: { private: { wedsyncId: "bk-1" } } }),
      },
      NO_RETRY,
    );
    expect(inserted.status).toBe(200);
    const ev = inserted.data;
    expect(ev.kind).toBe("calendar#event");
    expect(ev.id).toMatch(/^[a-v0-9]{5,}$/);
    expect(ev.status).toBe("confirmed");
    expect(ev.iCalUID).toBe(`${ev.id}@google.com`);
    expect(ev.etag).toMatch(/^"\d+"$/);
    expect(ev.sequence).toBe(0);
    expect(ev.created).toBe(ev.updated);
    expect(ev.extendedProperties?.private).toEqual({ wedsyncId: "bk-1" });
    expect(def.control.counters("primary").inserts).toBe(1);

    const got = await cal.events.get({ calendarId: "primary", eventId: ev.id! }, NO_RETRY);
    expect(got.data).toEqual(ev);

    const patched = await cal.events.patch(
      {
        calendarId: "primary",
        eventId: ev.id!,
        requestBody: { summary: "Renamed", end: { dateTime: "2027-06-02T12:00:00Z" } },
      },
      { ...NO_RETRY, headers: { "If-Match": ev.etag! } },
    );
    expect(patched.data.summary).toBe("Renamed");
    expect(patched.data.location).toBe("Barn"); // untouched by the patch
    expect(patched.data.extendedProperties?.private).toEqual({ wedsyncId: "bk-1" });
    expect(patched.data.end).toEqual({ dateTime: "2027-06-02T12:00:00Z" });
    expect(patched.data.etag).not.toBe(ev.etag);
    expect(patched.data.sequence).toBe(1); // time changed
    expect(def.control.event("primary", ev.id!)?.summary).toBe("Renamed");

    const del = await cal.events.delete({ calendarId: "primary", eventId: ev.id! }, NO_RETRY);
    expect(del.status).toBe(204);
    expect(def.control.events("primary")).toEqual([]);
    expect(def.control.events("primary", { includeDeleted: true })[0]?.status).toBe("cancelled");
    expect(def.control.counters("primary")).toMatchObject({ inserts: 1, updates: 1, deletes: 1, gets: 1 });

    const gone = await failure(cal.events.get({ calendarId: "primary", eventId: ev.id! }, NO_RETRY));
    expect(gone.status).toBe(410);
    expect(gone.data.error).toMatchObject({ code: 410, errors: [expect.objectContaining({ reason: "deleted" })] });
    const missing = await failure(cal.events.get({ calendarId: "primary", eventId: "nosuchevent" }, NO_RETRY));
    expect(missing.status).toBe(404);
    expect(missing.data.error).toMatchObject({
      code: 404,
      message: "Not Found",
      errors: [{ domain: "global", reason: "notFound" }],
    });
    const noCal = await failure(cal.events.list({ calendarId: "someone@else.test" }, NO_RETRY));
    expect(noCal.status).toBe(404);
  });

  it("replaces an event on update (PUT) and rejects a stale If-Match with 412 conditionNotMet", async () => {
    const cal = calendarClient();
    const { data: ev } = await cal.events.insert(
      { calendarId: "primary", requestBody: eventBody(1, { location: "Barn" }) },
      NO_RETRY,
    );
    const { data: updated } = await cal.events.update(
      { calendarId: "primary", eventId: ev.id!, requestBody: eventBody(1, { summary: "Replaced" }) },
      { ...NO_RETRY, headers: { "If-Match": ev.etag! } },
    );
    expect(updated.summary).toBe("Replaced");
    expect(updated.location).toBeUndefined(); // PUT replaces the whole resource
    expect(updated.sequence).toBe(0); // same times

    const stale = await failure(
      cal.events.patch(
        { calendarId: "primary", eventId: ev.id!, requestBody: { summary: "Lost update" } },
        { ...NO_RETRY, headers: { "If-Match": ev.etag! } },
      ),
    );
    expect(stale.status).toBe(412);
    expect(stale.data.error).toMatchObject({ code: 412, errors: [expect.objectContaining({ reason: "conditionNotMet" })] });
    const staleDelete = await failure(
      cal.events.delete({ calendarId: "primary", eventId: ev.id! }, { ...NO_RETRY, headers: { "If-Match": ev.etag! } }),
    );
    expect(staleDelete.status).toBe(412);
    expect(def.control.event("primary", ev.id!)?.summary).toBe("Replaced");
  });

  it("accepts a client-supplied base32hex id and answers 409 duplicate for a reused one", async () => {
    const cal = calendarClient();
    const { data } = await cal.events.insert(
      { calendarId: "primary", requestBody: eventBody(1, { id: "abc0booking42" }) },
      NO_RETRY,
    );
    expect(data.id).toBe("abc0booking42");
    const dup = await failure(
      cal.events.insert({ calendarId: "primary", requestBody: eventBody(2, { id: "abc0booking42" }) }, NO_RETRY),
    );
    expect(dup.status).toBe(409);
    expect(dup.data.error).toMatchObject({
      code: 409,
      message: "The requested identifier already exists.",
      errors: [expect.objectContaining({ reason: "duplicate" })],
    });
    // Deleted ids stay taken, as at Google.
    await cal.events.delete({ calendarId: "primary", eventId: "abc0booking42" }, NO_RETRY);
    expect(
      (await failure(cal.events.insert({ calendarId: "primary", requestBody: eventBody(3, { id: "abc0booking42" }) }, NO_RETRY)))
        .status,
    ).toBe(409);
    // "w".."z" and upper case are outside base32hex.
    const invalid = await failure(
      cal.events.insert({ calendarId: "primary", requestBody: eventBody(4, { id: "Wedding-1" }) }, NO_RETRY),
    );
    expect(invalid.status).toBe(400);
    const noEnd = await failure(
      cal.events.insert({ calendarId: "primary", requestBody: { summary: "x", start: { date: "2027-06-01" } } }, NO_RETRY),
    );
    expect(noEnd.status).toBe(400);
    expect(noEnd.data.error).toMatchObject({
      message: "Missing end time.",
      errors: [expect.objectContaining({ reason: "required" })],
    });
    expect(def.control.counters("primary").inserts).toBe(1);
  });

  it("paginates lists and filters by privateExtendedProperty and time range", async () => {
    const cal = calendarClient();
    for (let n = 1; n <= 7; n++) {
      const tag = n % 2 === 0 ? "even" : "odd";
      await cal.events.insert(
        { calendarId: "primary", requestBody: eventBody(n, { extendedProperties: { private: { tag, src: "wedsync" } } }) },
        NO_RETRY,
      );
    }
    const all = await listAll(cal, { calendarId: "primary" }); // default page size 3
    expect(all.pages.map((p) => p.items?.length)).toEqual([3, 3, 1]);
    expect(all.pages.slice(0, -1).every((p) => p.nextPageToken && !p.nextSyncToken)).toBe(true);
    expect(all.nextSyncToken).toEqual(expect.any(String));
    expect(all.items.map((e) => e.summary)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `Event ${n}`));

    const two = await listAll(cal, { calendarId: "primary", maxResults: 2, privateExtendedProperty: ["tag=even"] });
    expect(two.pages.map((p) => p.items?.length)).toEqual([2, 1]);
    expect(two.items.map((e) => e.summary)).toEqual(["Event 2", "Event 4", "Event 6"]);

    const both = await listAll(cal, { calendarId: "primary", privateExtendedProperty: ["tag=odd", "src=wedsync"] });
    expect(both.items).toHaveLength(4);
    const none = await listAll(cal, { calendarId: "primary", privateExtendedProperty: ["tag=odd", "src=other"] });
    expect(none.items).toEqual([]);

    const window = await listAll(cal, {
      calendarId: "primary",
      timeMin: "2027-06-03T10:30:00Z", // Event 2 ends 11:00 on the 3rd: still overlaps
      timeMax: "2027-06-05T10:00:00Z", // Event 4 starts exactly then: excluded
      singleEvents: true,
      orderBy: "startTime",
    });
    expect(window.items.map((e) => e.summary)).toEqual(["Event 2", "Event 3"]);
    const badOrder = await failure(cal.events.list({ calendarId: "primary", orderBy: "startTime" }, NO_RETRY));
    expect(badOrder.status).toBe(400);
    expect(def.control.counters("primary").lists).toBe(3 + 2 + 2 + 1 + 1);
  });

  it("full sync then incremental sync returns exactly the changes, deletions included", async () => {
    const cal = calendarClient();
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++)
      ids.push((await cal.events.insert({ calendarId: "primary", requestBody: eventBody(n) }, NO_RETRY)).data.id!);
    const full = await listAll(cal, { calendarId: "primary" });
    expect(full.items).toHaveLength(4);

    // No changes: an empty page with a fresh sync token.
    const quiet = await listAll(cal, { calendarId: "primary", syncToken: full.nextSyncToken! });
    expect(quiet.items).toEqual([]);
    expect(quiet.nextSyncToken).toEqual(expect.any(String));

    await cal.events.patch({ calendarId: "primary", eventId: ids[1]!, requestBody: { summary: "Changed" } }, NO_RETRY);
    await cal.events.delete({ calendarId: "primary", eventId: ids[2]! }, NO_RETRY);
    const added = (await cal.events.insert({ calendarId: "primary", requestBody: eventBody(9) }, NO_RETRY)).data.id!;

    const inc = await listAll(cal, { calendarId: "primary", syncToken: quiet.nextSyncToken! });
    expect(inc.items.map((e) => [e.id, e.status])).toEqual([
      [ids[1], "confirmed"],
      [ids[2], "cancelled"],
      [added, "confirmed"],
    ]);
    expect(inc.items[0]!.summary).toBe("Changed");
    // Incremental pages honour maxResults and the last one carries the next token.
    const paged = await listAll(cal, { calendarId: "primary", syncToken: quiet.nextSyncToken!, maxResults: 2 });
    expect(paged.pages.map((p) => p.items?.length)).toEqual([2, 1]);

    const after = await listAll(cal, { calendarId: "primary", syncToken: inc.nextSyncToken! });
    expect(after.items).toEqual([]);

    // A full sync hides deleted events unless showDeleted is set.
    expect((await listAll(cal, { calendarId: "primary" })).items).toHaveLength(4);
    expect((await listAll(cal, { calendarId: "primary", showDeleted: true })).items).toHaveLength(5);

    const combined = await failure(
      cal.events.list({ calendarId: "primary", syncToken: inc.nextSyncToken!, timeMin: "2027-01-01T00:00:00Z" }, NO_RETRY),
    );
    expect(combined.status).toBe(400);
    const combinedProp = await failure(
      cal.events.list({ calendarId: "primary", syncToken: inc.nextSyncToken!, privateExtendedProperty: ["a=b"] }, NO_RETRY),
    );
    expect(combinedProp.status).toBe(400);
  });

  it("answers 410 fullSyncRequired for expired or unknown sync tokens", async () => {
    const cal = calendarClient();
    await cal.events.insert({ calendarId: "primary", requestBody: eventBody(1) }, NO_RETRY);
    const full = await listAll(cal, { calendarId: "primary" });
    expect(def.control.expireSyncTokens()).toBe(1);

    let caught: unknown;
    try {
      await cal.events.list({ calendarId: "primary", syncToken: full.nextSyncToken! }, NO_RETRY);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GaxiosError);
    expect((caught as { status: number }).status).toBe(410);
    expect((caught as { response: { data: unknown } }).response.data).toEqual({
      error: {
        code: 410,
        message: "Sync token is no longer valid, a full sync is required.",
        errors: [
          { domain: "calendar", reason: "fullSyncRequired", message: "Sync token is no longer valid, a full sync is required." },
        ],
      },
    });
    expect((await failure(cal.events.list({ calendarId: "primary", syncToken: "made-up" }, NO_RETRY))).status).toBe(410);

    // A fresh full sync recovers.
    const again = await listAll(cal, { calendarId: "primary" });
    expect(again.items).toHaveLength(1);
    expect((await listAll(cal, { calendarId: "primary", syncToken: again.nextSyncToken! })).items).toEqual([]);
  });

  it("watch delivers a sync message then exists notifications with the channel headers; channels.stop ends them", async () => {
    const received: IncomingHttpHeaders[] = [];
    const receiver: Server = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      req.on("end", () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/google`;
    try {
      const cal = calendarClient();
      const expiration = String(Date.now() + 3600_000);
      const { data: channel } = await cal.events.watch(
        { calendarId: "primary", requestBody: { id: "chan-1", type: "web_hook", address, token: "secret=abc", expiration } },
        NO_RETRY,
      );
      expect(channel).toMatchObject({ kind: "api#channel", id: "chan-1", token: "secret=abc", expiration });
      expect(channel.resourceId).toEqual(expect.any(String));
      expect(channel.resourceUri).toBe(`${sim.url}/calendar/v3/calendars/primary/events?alt=json`);

      const results = await def.control.notify("primary");
      expect(results).toEqual([{ channelId: "chan-1", state: "exists", messageNumber: 2, status: 200 }]);
      expect(received).toHaveLength(2);
      expect(received.map((h) => [h["x-goog-resource-state"], h["x-goog-message-number"]])).toEqual([
        ["sync", "1"],
        ["exists", "2"],
      ]);
      for (const h of received) {
        expect(h["x-goog-channel-id"]).toBe("chan-1");
        expect(h["x-goog-channel-token"]).toBe("secret=abc");
        expect(h["x-goog-resource-id"]).toBe(channel.resourceId);
        expect(h["x-goog-resource-uri"]).toBe(channel.resourceUri);
        expect(Date.parse(h["x-goog-channel-expiration"] as string)).toBe(Math.floor(Number(expiration) / 1000) * 1000);
      }

      const dupId = await failure(
        cal.events.watch({ calendarId: "primary", requestBody: { id: "chan-1", type: "web_hook", address } }, NO_RETRY),
      );
      expect(dupId.status).toBe(400);

      const wrong = await failure(cal.channels.stop({ requestBody: { id: "chan-1", resourceId: "nope" } }, NO_RETRY));
      expect(wrong.status).toBe(404);
      const stopped = await cal.channels.stop({ requestBody: { id: "chan-1", resourceId: channel.resourceId! } }, NO_RETRY);
      expect(stopped.status).toBe(204);
      expect(await def.control.notify("primary")).toEqual([]);
      expect(received).toHaveLength(2);
      expect(def.control.channels()).toEqual([expect.objectContaining({ id: "chan-1", stopped: true, messageNumber: 2 })]);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it("answers 401 in Google's format without a valid bearer token", async () => {
    const bad = await failure(calendarClient("ya29.wrong").events.list({ calendarId: "primary" }, NO_RETRY));
    expect(bad.status).toBe(401);
    expect(bad.data.error).toMatchObject({
      code: 401,
      status: "UNAUTHENTICATED",
      errors: [expect.objectContaining({ reason: "authError", location: "Authorization", locationType: "header" })],
    });

    const res = await fetch(`${sim.url}/calendar/v3/calendars/primary/events`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      code: 401,
      status: "UNAUTHENTICATED",
      errors: [expect.objectContaining({ reason: "required" })],
    });
    expect(def.control.counters("primary").lists).toBe(0);
  });

  it("uses the authorized user's email as the primary calendar id, as with the OAuth simulator's checkAccessToken", async () => {
    const users: Record<string, string> = { "tok-lena": "lena@example.test", "tok-chris": "chris@example.test" };
    await sim.close();
    def = createGoogleCalendarSimulator({
      authorize: (token) => (users[token] ? { ok: true, user: { email: users[token] } } : { ok: false }),
    });
    sim = await startSimulator(def);
    const lena = calendarClient("tok-lena");
    const { data } = await lena.events.insert({ calendarId: "primary", requestBody: eventBody(1) }, NO_RETRY);
    expect((await lena.events.get({ calendarId: "lena@example.test", eventId: data.id! }, NO_RETRY)).data.id).toBe(data.id);
    expect(def.control.events("lena@example.test").map((e) => e.id)).toEqual([data.id]);
    // Another user can neither see Lena's calendar nor shares her "primary".
    const chris = calendarClient("tok-chris");
    expect((await failure(chris.events.list({ calendarId: "lena@example.test" }, NO_RETRY))).status).toBe(404);
    expect((await chris.events.list({ calendarId: "primary" }, NO_RETRY)).data.items).toEqual([]);
    expect((await failure(calendarClient("tok-unknown").calendarList.list({}, NO_RETRY))).status).toBe(401);
  });

  it("exposes control routes under /__sim/google-calendar", async () => {
    await calendarClient().events.insert({ calendarId: "primary", requestBody: eventBody(1) }, NO_RETRY);
    const state = (await (await fetch(`${sim.url}/__sim/google-calendar/state`)).json()) as {
      calendars: { id: string; events: unknown[] }[];
      counters: Record<string, { inserts: number }>;
    };
    expect(state.calendars).toEqual([
      expect.objectContaining({ id: "primary", events: [expect.objectContaining({ summary: "Event 1" })] }),
    ]);
    expect(state.counters.primary?.inserts).toBe(1);
    const reset = await fetch(`${sim.url}/__sim/google-calendar/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    expect(def.control.calendars()).toEqual([]);
  });
});
