// Pulling a vendor's busy times from Google Calendar into availability blocks,
// through the real googleapis SDK against the Google Calendar simulator: full
// sync over several pages, incremental sync with the sync token, 410 →
// full resync, the hub's own pushed events ignored, cancellations.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { google } from "googleapis";
import type { calendar_v3 } from "googleapis";
import { availabilityBlocks, calendarSyncState, connections } from "../../db/schema";
import { pullGoogleAvailability } from "../../app/calendar/google-pull.server";
import { makeSupplier, startTestHub } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

const NO_RETRY = { retry: false } as const;

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;
/** Query strings of every events.list request the simulator answered. */
let listQueries: URLSearchParams[];

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});
beforeEach(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === "t", pageSize: 5 });
  listQueries = [];
  const routes = def.routes;
  def.routes = (router, ctx) => {
    router.use((req, _res, next) => {
      if (req.method === "GET" && /\/calendars\/[^/]+\/events$/.test(req.path))
        listQueries.push(new URL(req.originalUrl, "http://x").searchParams);
      next();
    });
    routes(router, ctx);
  };
  sim = await startSimulator(def);
});
afterEach(async () => {
  await sim?.close();
});

function vendorApi(): calendar_v3.Calendar {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: "t" });
  return google.calendar({ version: "v3", auth, rootUrl: `${sim.url}/` });
}

function timed(n: number, extra: calendar_v3.Schema$Event = {}): calendar_v3.Schema$Event {
  const day = String(1 + n).padStart(2, "0");
  return {
    summary: `Shoot ${n}`,
    start: { dateTime: `2027-06-${day}T10:00:00+01:00`, timeZone: "Europe/London" },
    end: { dateTime: `2027-06-${day}T12:00:00+01:00`, timeZone: "Europe/London" },
    ...extra,
  };
}

async function setup() {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const [conn] = await db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "google-calendar",
      credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "t" }),
    })
    .returning();
  const connectionId = conn!.id;
  const pull = () => pullGoogleAvailability(hub.ctx, connectionId, { rootUrl: `${sim.url}/` });
  const blocks = async () =>
    (await db.select().from(availabilityBlocks).where(eq(availabilityBlocks.connectionId, connectionId))).sort((a, b) =>
      a.externalId.localeCompare(b.externalId),
    );
  return { supplier, connectionId, pull, blocks };
}

async function insertEvents(api: calendar_v3.Calendar, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await api.events.insert({ calendarId: "primary", requestBody: timed(i) }, NO_RETRY);
    ids.push(res.data.id!);
  }
  return ids;
}

/** The simulator's live vendor events (not hub-pushed), as the blocks they should be. */
function expectedBlocks() {
  return def.control
    .events("primary")
    .filter((e) => !(e.extendedProperties as { private?: { hubKey?: string } } | undefined)?.private?.hubKey)
    .map((e) => {
      const start = e.start as { dateTime?: string; date?: string };
      const end = e.end as { dateTime?: string; date?: string };
      return {
        externalId: e.id,
        startsAt: start.dateTime ?? start.date,
        endsAt: end.dateTime ?? end.date,
        allDay: Boolean(start.date),
        status: e.transparency === "transparent" ? "free" : e.status === "tentative" ? "tentative" : "busy",
        summary: (e.summary as string | undefined) ?? null,
      };
    })
    .sort((a, b) => a.externalId.localeCompare(b.externalId));
}

const comparable = (rows: Awaited<ReturnType<Awaited<ReturnType<typeof setup>>["blocks"]>>) =>
  rows.map(({ externalId, startsAt, endsAt, allDay, status, summary }) => ({
    externalId,
    startsAt,
    endsAt,
    allDay,
    status,
    summary,
  }));

describe("pullGoogleAvailability", () => {
  it("full sync over several pages, then applies exactly the incremental changes", async () => {
    const { pull, blocks, supplier, connectionId } = await setup();
    const api = vendorApi();
    const ids = await insertEvents(api, 12);

    expect(await pull()).toMatchObject({ fullSync: true, upserted: 12, deleted: 0, skipped: 0 });
    const first = await blocks();
    expect(first).toHaveLength(12);
    expect(comparable(first)).toEqual(expectedBlocks());
    expect(first.every((b) => b.supplierId === supplier.id)).toBe(true);
    expect(first.find((b) => b.externalId === ids[0])).toMatchObject({
      startsAt: "2027-06-01T10:00:00+01:00",
      endsAt: "2027-06-01T12:00:00+01:00",
      allDay: false,
      status: "busy",
      summary: "Shoot 0",
    });
    // 12 events at 5 a page: three pages, none with a sync token.
    expect(listQueries).toHaveLength(3);
    expect(listQueries.every((q) => !q.has("syncToken"))).toBe(true);
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state).toMatchObject({ calendarId: "primary" });
    expect(state!.syncToken).toBeTruthy();
    expect(state!.lastFullSyncAt).toBeInstanceOf(Date);

    // Nothing changed: an incremental pull with no work.
    listQueries = [];
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0, skipped: 0 });
    expect(listQueries).toHaveLength(1);
    expect(listQueries[0]!.get("syncToken")).toBe(state!.syncToken);

    // Vendor adds an all-day event, patches one to tentative, deletes one.
    const added = await api.events.insert(
      {
        calendarId: "primary",
        requestBody: { summary: "Holiday", start: { date: "2027-08-10" }, end: { date: "2027-08-13" } },
      },
      NO_RETRY,
    );
    await api.events.patch(
      { calendarId: "primary", eventId: ids[3]!, requestBody: { status: "tentative", summary: "Maybe" } },
      NO_RETRY,
    );
    await api.events.delete({ calendarId: "primary", eventId: ids[7]! }, NO_RETRY);

    listQueries = [];
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 2, deleted: 1, skipped: 0 });
    expect(listQueries.length).toBeGreaterThanOrEqual(1);
    expect(listQueries[0]!.has("syncToken")).toBe(true);
    const after = await blocks();
    expect(after).toHaveLength(12);
    expect(comparable(after)).toEqual(expectedBlocks());
    expect(after.find((b) => b.externalId === added.data.id)).toMatchObject({
      startsAt: "2027-08-10",
      endsAt: "2027-08-13",
      allDay: true,
      status: "busy",
      summary: "Holiday",
    });
    expect(after.find((b) => b.externalId === ids[3])).toMatchObject({ status: "tentative", summary: "Maybe" });
    expect(after.find((b) => b.externalId === ids[7])).toBeUndefined();
    // Untouched blocks were not rewritten.
    const untouched = first.find((b) => b.externalId === ids[0])!;
    expect(after.find((b) => b.externalId === ids[0])!.updatedAt).toEqual(untouched.updatedAt);
  });

  it("follows nextPageToken through an incremental listing of many changes", async () => {
    const { pull, blocks } = await setup();
    const api = vendorApi();
    await insertEvents(api, 3);
    await pull();
    await insertEvents(api, 11);
    listQueries = [];
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 11, deleted: 0 });
    expect(listQueries).toHaveLength(3);
    expect(listQueries[0]!.has("syncToken")).toBe(true);
    expect(listQueries.slice(1).every((q) => q.has("pageToken"))).toBe(true);
    expect(await blocks()).toHaveLength(14);
  });

  it("answers 410 with a full resync: blocks equal the simulator's events, no duplicates", async () => {
    const { pull, blocks, connectionId } = await setup();
    const api = vendorApi();
    const ids = await insertEvents(api, 12);
    await pull();

    // Changes the expired token will never report: the full resync must catch them.
    await api.events.delete({ calendarId: "primary", eventId: ids[0]! }, NO_RETRY);
    await api.events.patch({ calendarId: "primary", eventId: ids[1]!, requestBody: { transparency: "transparent" } }, NO_RETRY);
    await insertEvents(api, 2);
    expect(def.control.expireSyncTokens()).toBeGreaterThan(0);

    listQueries = [];
    const res = await pull();
    expect(res).toMatchObject({ fullSync: true, upserted: 13, deleted: 1, skipped: 0 });
    // First the rejected incremental request, then a full listing without the token.
    expect(listQueries[0]!.has("syncToken")).toBe(true);
    expect(listQueries.slice(1).every((q) => !q.has("syncToken"))).toBe(true);
    expect(listQueries.length).toBe(1 + 3);

    const rows = await blocks();
    expect(rows).toHaveLength(13);
    expect(new Set(rows.map((r) => r.externalId)).size).toBe(13);
    expect(comparable(rows)).toEqual(expectedBlocks());
    expect(rows.find((b) => b.externalId === ids[1])).toMatchObject({ status: "free" });

    // And the fresh token works: the next pull is incremental again.
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    listQueries = [];
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0 });
    expect(listQueries[0]!.get("syncToken")).toBe(state!.syncToken);
  });

  it("ignores events the hub pushed itself (hubKey), in full and incremental pulls", async () => {
    const { pull, blocks } = await setup();
    const api = vendorApi();
    const [vendorId] = await insertEvents(api, 1);
    const hubKey = { extendedProperties: { private: { hubKey: "couple-1:ceremony" } } };
    await api.events.insert({ calendarId: "primary", requestBody: timed(5, { summary: "Wedding: A", ...hubKey }) }, NO_RETRY);

    expect(await pull()).toMatchObject({ fullSync: true, upserted: 1, ignored: 1 });
    expect((await blocks()).map((b) => b.externalId)).toEqual([vendorId]);

    await api.events.insert({ calendarId: "primary", requestBody: timed(6, { summary: "Wedding: B", ...hubKey }) }, NO_RETRY);
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0, ignored: 1 });
    expect((await blocks()).map((b) => b.externalId)).toEqual([vendorId]);
  });

  it("removes the block of a cancelled event and counts events the mapping cannot map as skipped", async () => {
    const { pull, blocks } = await setup();
    const api = vendorApi();
    const ids = await insertEvents(api, 3);
    await pull();
    expect(await blocks()).toHaveLength(3);

    // Cancelling (status cancelled through the API) and deleting both remove the block.
    await api.events.patch({ calendarId: "primary", eventId: ids[0]!, requestBody: { status: "cancelled" } }, NO_RETRY);
    // A summary longer than the target allows: invalid output, skipped (and no stale block kept).
    await api.events.patch({ calendarId: "primary", eventId: ids[1]!, requestBody: { summary: "x".repeat(600) } }, NO_RETRY);
    const res = await pull();
    expect(res).toMatchObject({ fullSync: false, upserted: 0, deleted: 2, skipped: 1 });
    expect(res.skippedEvents).toEqual([
      expect.objectContaining({ eventId: ids[1], reason: "invalid-output", errors: { summary: expect.any(Array) } }),
    ]);
    expect((await blocks()).map((b) => b.externalId)).toEqual([ids[2]]);
  });
});
