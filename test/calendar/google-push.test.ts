// Pushing wedding events into a vendor's Google Calendar through the real
// googleapis SDK against the Google Calendar simulator: idempotent re-syncs,
// updates in place, crash recovery through deterministic ids, deletion.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { google } from "googleapis";
import { calendarEvents, connections, coreFields, supplierCouples } from "../../db/schema";
import {
  GOOGLE_REQUEST_TIMEOUT_MS,
  googleEventId,
  openGoogleCalendar,
  syncGoogleCalendar,
} from "../../app/calendar/google-push.server";
import { makeCouple, makeSupplier, startTestHub } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});
beforeEach(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === "t" });
  sim = await startSimulator(def);
});
afterEach(async () => {
  await sim?.close();
});

const day = (n: number) => `2027-07-${String(1 + (n % 28)).padStart(2, "0")}`;

/** A supplier with a Google connection and `n` connected couples, each with a wedding date. */
async function setup(n: number) {
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
  const coupleIds: string[] = [];
  for (let i = 0; i < n; i++) {
    coupleIds.push(
      await makeCouple(db, [supplier.id], {
        weddingDate: day(i),
        timezone: "Europe/London",
        ceremonyTime: "14:00",
        receptionTime: "18:30",
        partner1Name: `Partner ${i}`,
      }),
    );
  }
  const sync = (opts: Parameters<typeof syncGoogleCalendar>[2] = {}) =>
    syncGoogleCalendar(hub.ctx, conn!.id, { rootUrl: `${sim.url}/`, ...opts });
  return { supplier, connectionId: conn!.id, coupleIds, sync };
}

const liveEvents = () => def.control.events("primary");

function bearer(token: string) {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: token });
  return auth;
}

async function bumpFields(coupleId: string, patch: Record<string, unknown>) {
  const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
  await hub.ctx.db
    .update(coreFields)
    .set({ fields: { ...cf!.fields, ...patch }, version: cf!.version + 1 })
    .where(eq(coreFields.coupleId, coupleId));
}

describe("syncGoogleCalendar", () => {
  it("pushes one event per couple and re-syncs without any write", async () => {
    const { sync, connectionId, coupleIds } = await setup(20);
    expect(await sync()).toMatchObject({ inserted: 20, adopted: 0, updated: 0, deleted: 0, unchanged: 0 });
    expect(await sync()).toMatchObject({ inserted: 0, adopted: 0, updated: 0, deleted: 0, unchanged: 20 });
    expect(await sync()).toMatchObject({ inserted: 0, adopted: 0, updated: 0, deleted: 0, unchanged: 20 });

    const events = liveEvents();
    expect(events).toHaveLength(20);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(coupleIds.map((c) => googleEventId(connectionId, `${c}:ceremony`))));
    expect(def.control.counters("primary")).toMatchObject({ inserts: 20, updates: 0, deletes: 0 });
    const first = events.find((e) => e.id === googleEventId(connectionId, `${coupleIds[0]}:ceremony`))!;
    expect(first).toMatchObject({
      summary: "Wedding: Partner 0",
      start: { dateTime: "2027-07-01T14:00:00+01:00", timeZone: "Europe/London" },
      extendedProperties: { private: { hubKey: `${coupleIds[0]}:ceremony` } },
    });

    const rows = await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.status === "active" && r.etag && r.calendarId === "primary")).toBe(true);
  });

  it("moves the same provider event when the wedding date changes", async () => {
    const { sync, connectionId, coupleIds } = await setup(3);
    await sync();
    const id = googleEventId(connectionId, `${coupleIds[1]}:ceremony`);
    const before = def.control.event("primary", id)!;

    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleIds[1]!));
    await hub.ctx.db
      .update(coreFields)
      .set({ fields: { ...cf!.fields, weddingDate: "2027-09-25" }, version: cf!.version + 1 })
      .where(eq(coreFields.coupleId, coupleIds[1]!));

    expect(await sync()).toMatchObject({ inserted: 0, updated: 1, unchanged: 2, deleted: 0 });
    const after = def.control.event("primary", id)!;
    expect(after.start).toEqual({ dateTime: "2027-09-25T14:00:00+01:00", timeZone: "Europe/London" });
    expect(after.end).toEqual({ dateTime: "2027-09-25T18:30:00+01:00", timeZone: "Europe/London" });
    expect(after.etag).not.toBe(before.etag);
    expect(liveEvents()).toHaveLength(3);
    expect(def.control.counters("primary")).toMatchObject({ inserts: 3, updates: 1 });
    const [row] = await hub.ctx.db
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.providerEventId, id)));
    expect(row!.etag).toBe(after.etag);
    expect(await sync()).toMatchObject({ updated: 0, unchanged: 3 });
  });

  it("adopts events a crashed run created at Google but never recorded (409 on the deterministic id)", async () => {
    const { sync, connectionId } = await setup(20);
    let inserts = 0;
    await expect(
      sync({
        afterProviderInsert: () => {
          if (++inserts === 5) throw new Error("crash after the provider insert");
        },
      }),
    ).rejects.toThrow("crash after the provider insert");
    expect(liveEvents()).toHaveLength(5);

    expect(await sync()).toMatchObject({ inserted: 15, adopted: 1, unchanged: 4 });
    expect(liveEvents()).toHaveLength(20);

    // Lose every row: the next run adopts all 20 and creates nothing.
    await hub.ctx.db.delete(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    expect(await sync()).toMatchObject({ inserted: 0, adopted: 20, updated: 0 });
    expect(await sync()).toMatchObject({ unchanged: 20 });
    expect(liveEvents()).toHaveLength(20);
    expect(def.control.counters("primary")).toMatchObject({ inserts: 20, updates: 0 });
  });

  it("adopting an event whose content changed meanwhile updates it", async () => {
    const { sync, connectionId, coupleIds } = await setup(2);
    await sync();
    await hub.ctx.db.delete(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleIds[0]!));
    await hub.ctx.db
      .update(coreFields)
      .set({ fields: { ...cf!.fields, venueName: "Aynhoe Park" }, version: cf!.version + 1 })
      .where(eq(coreFields.coupleId, coupleIds[0]!));
    expect(await sync()).toMatchObject({ inserted: 0, adopted: 2 });
    expect(def.control.event("primary", googleEventId(connectionId, `${coupleIds[0]}:ceremony`))!.location).toBe("Aynhoe Park");
    expect(def.control.counters("primary")).toMatchObject({ inserts: 2, updates: 1 });
  });

  it("deletes the event of a couple disconnected from the supplier, and re-creates it on reconnect", async () => {
    const { sync, connectionId, coupleIds, supplier } = await setup(3);
    await sync();
    const gone = coupleIds[2]!;
    await hub.ctx.db
      .delete(supplierCouples)
      .where(and(eq(supplierCouples.supplierId, supplier.id), eq(supplierCouples.coupleId, gone)));

    expect(await sync()).toMatchObject({ deleted: 1, unchanged: 2, inserted: 0 });
    const id = googleEventId(connectionId, `${gone}:ceremony`);
    expect(liveEvents().map((e) => e.id)).not.toContain(id);
    expect(def.control.event("primary", id)!.status).toBe("cancelled");
    const [row] = await hub.ctx.db
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, `${gone}:ceremony`)));
    expect(row!.status).toBe("deleted");
    expect(await sync()).toMatchObject({ deleted: 0, unchanged: 2 });

    // Google keeps the deleted id: the event comes back under the next generation's id.
    await hub.ctx.db.insert(supplierCouples).values({ supplierId: supplier.id, coupleId: gone });
    expect(await sync()).toMatchObject({ inserted: 1, unchanged: 2 });
    expect(liveEvents()).toHaveLength(3);
    expect(liveEvents().map((e) => e.id)).toContain(googleEventId(connectionId, `${gone}:ceremony`, 1));
  });

  it("retries a PATCH refused with 412 (the vendor edited the event at Google) once with the fresh etag", async () => {
    const { sync, connectionId, coupleIds } = await setup(1);
    await sync();
    const id = googleEventId(connectionId, `${coupleIds[0]}:ceremony`);
    const api = google.calendar({ version: "v3", auth: bearer("t"), rootUrl: `${sim.url}/` });
    await api.events.patch({ calendarId: "primary", eventId: id, requestBody: { colorId: "5" } }, { retry: false });
    await bumpFields(coupleIds[0]!, { guestCount: 150 });

    expect(await sync()).toMatchObject({ updated: 1 });
    const ev = def.control.event("primary", id)!;
    expect(ev.description).toContain("Guests: 150");
    expect(ev.colorId).toBe("5"); // a PATCH keeps the vendor's own fields
    expect(await sync()).toMatchObject({ unchanged: 1 });
  });

  it("re-creates under the next generation's id an event the vendor deleted at Google", async () => {
    const { sync, connectionId, coupleIds } = await setup(1);
    await sync();
    const id = googleEventId(connectionId, `${coupleIds[0]}:ceremony`);
    const api = google.calendar({ version: "v3", auth: bearer("t"), rootUrl: `${sim.url}/` });
    await api.events.delete({ calendarId: "primary", eventId: id }, { retry: false });
    await bumpFields(coupleIds[0]!, { guestCount: 90 });

    expect(await sync()).toMatchObject({ inserted: 1, updated: 0 });
    expect(liveEvents().map((e) => e.id)).toEqual([googleEventId(connectionId, `${coupleIds[0]}:ceremony`, 1)]);
  });

  it("gives up on a request Google never answers instead of holding the sync forever, then catches up", async () => {
    const { sync, connectionId, coupleIds } = await setup(1);
    await sync();
    await bumpFields(coupleIds[0]!, { guestCount: 77 });
    sim.setFaults({ hangRate: 1 });
    const started = Date.now();
    await expect(sync({ timeoutMs: 300 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sim.stats().hung).toBeGreaterThan(0);

    sim.resetFaults();
    expect(await sync({ timeoutMs: 300 })).toMatchObject({ updated: 1, inserted: 0 });
    expect(liveEvents()).toHaveLength(1);
    expect(def.control.event("primary", googleEventId(connectionId, `${coupleIds[0]}:ceremony`))!.description).toContain(
      "Guests: 77",
    );
  });

  it("bounds every Calendar API call by default (the job path passes no options)", async () => {
    const { connectionId } = await setup(0);
    const { api } = await openGoogleCalendar(hub.ctx, connectionId, { rootUrl: `${sim.url}/` });
    const context = (api as unknown as { context: { _options: { timeout?: number } } }).context;
    expect(context._options.timeout).toBe(GOOGLE_REQUEST_TIMEOUT_MS);
    expect(GOOGLE_REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
  });

  it("skips couples without a wedding date", async () => {
    const { sync, supplier } = await setup(1);
    const undated = await makeCouple(hub.ctx.db, [supplier.id], { partner1Name: "No Date" });
    const res = await sync();
    expect(res).toMatchObject({ inserted: 1 });
    expect(res.skipped).toEqual([{ key: `${undated}:ceremony`, coupleId: undated, reason: "no-wedding-date" }]);
    expect(liveEvents()).toHaveLength(1);
  });
});
