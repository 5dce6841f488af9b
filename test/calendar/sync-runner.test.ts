// The calendar sync runner around any provider (here Google, through its
// simulator): the last push recorded for the console, 429 with Retry-After
// turned into a rescheduled job, busy times announced to couples over
// Socket.IO and readable through the API, and what disconnecting does to the
// hub's events as the vendor chose.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { google } from "googleapis";
import type { JobHelpers } from "graphile-worker";
import { calendarEvents, calendarSyncState, connections } from "../../db/schema";
import { CalendarBackoff, runCalendarSync } from "../../app/calendar/sync.server";
import { requestCalendarSync, updateCalendarChoices } from "../../app/calendar/status.server";
import { disconnectConnection } from "../../app/oauth/tokens.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { syncCalendarTask } from "../../workers/sync-calendar";
import { makeCouple, makeSupplier, startTestHub, testActor } from "../helpers/hub";
import { apiClient } from "../helpers/api";
import { listen } from "../helpers/realtime";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

const TOKEN = "runner-token";
let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;

beforeAll(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === TOKEN });
  sim = await startSimulator(def);
  // This hub (and only this one) talks to this simulator: no shared connector settings.
  hub = await startTestHub({ config: { providerApiRoots: { "google-calendar": `${sim.url}/` } } });
});
afterAll(async () => {
  await hub?.stop();
  await sim?.close();
});

async function setup(n: number) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const [conn] = await db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "google-calendar",
      credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: TOKEN }),
    })
    .returning();
  const coupleIds: string[] = [];
  for (let i = 0; i < n; i++)
    coupleIds.push(
      await makeCouple(db, [supplier.id], {
        weddingDate: `2027-09-${String(1 + i).padStart(2, "0")}`,
        timezone: "Europe/London",
        ceremonyTime: "13:00",
        receptionTime: "17:00",
        partner1Name: `Runner ${i}`,
      }),
    );
  return { supplierId: supplier.id, connectionId: conn!.id, coupleIds };
}

const hubEventsAtGoogle = () =>
  def.control.events("primary").filter((e) => {
    const props = e.extendedProperties as { private?: { hubKey?: string } } | undefined;
    return typeof props?.private?.hubKey === "string";
  });

function vendorCalendar() {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: TOKEN });
  return google.calendar({ version: "v3", auth, rootUrl: `${sim.url}/` });
}

describe("runCalendarSync", () => {
  it("pushes, pulls and records the last push for the console", async () => {
    const { connectionId, coupleIds } = await setup(3);
    const outcome = await runCalendarSync(hub.ctx, connectionId);
    expect(outcome.status).toBe("synced");
    expect(outcome.push).toMatchObject({ inserted: 3, updated: 0, deleted: 0, skipped: 0 });
    expect(outcome.pull).toMatchObject({ fullSync: true });
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state?.lastPushAt).toBeInstanceOf(Date);
    expect(state?.lastPushResult).toMatchObject({ inserted: 3 });
    expect(state?.lastError).toBeNull();
    const keys = hubEventsAtGoogle().map((e) => (e.extendedProperties as { private: { hubKey: string } }).private.hubKey);
    for (const id of coupleIds) expect(keys).toContain(`${id}:ceremony`);
  });

  it("turns 429 with Retry-After into a rescheduled job, records the error, and loses nothing", async () => {
    const { connectionId } = await setup(2);
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7 });
    try {
      const err = await runCalendarSync(hub.ctx, connectionId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CalendarBackoff);
      expect((err as CalendarBackoff).retryAfterSeconds).toBe(7);
      const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
      expect(state?.lastError).toMatch(/429/);

      // The job itself does not fail: it queues the next run when Google asked, with the backoff counted.
      const before = Date.now();
      await syncCalendarTask(hub.ctx)({ connectionId, pull: true, backoff: 0 }, {
        job: { priority: 0 },
      } as unknown as JobHelpers);
      const job = await hub.ctx.db.execute<{ run_at: Date; payload: { backoff: number } }>(
        sql`select run_at, payload from graphile_worker._private_jobs where key = ${`calendar-sync:${connectionId}`}`,
      );
      expect(job.rows).toHaveLength(1);
      expect(job.rows[0]!.payload.backoff).toBe(1);
      const delay = new Date(job.rows[0]!.run_at).getTime() - before;
      expect(delay).toBeGreaterThanOrEqual(6_500);
      expect(delay).toBeLessThan(20_000);
    } finally {
      sim.setFaults({ rateLimitRate: 0 });
    }
    // Once Google answers again, the same sync puts every event in, once.
    const outcome = await runCalendarSync(hub.ctx, connectionId);
    expect(outcome.push).toMatchObject({ inserted: 2 });
    await hub.ctx.db.execute(sql`select graphile_worker.remove_job(${`calendar-sync:${connectionId}`})`);
  });

  it("announces changed busy times to the couple's room and serves them through the API", async () => {
    const { supplierId, connectionId, coupleIds } = await setup(1);
    const coupleId = coupleIds[0]!;
    const { token } = await createApiToken(hub.ctx.db, { name: "wedme", kind: "wedme", scopes: ["core-fields:read"] }, testActor);
    const listener = listen(hub.url, token, [{ room: `couple:${coupleId}` }]);
    const announced: { room: string; supplierId: string }[] = [];
    listener.client.socket.on("availability", (m: { room: string; supplierId: string }) => announced.push(m));
    try {
      await listener.joined;
      await vendorCalendar().events.insert({
        calendarId: "primary",
        requestBody: {
          summary: "Private: dentist",
          start: { dateTime: "2027-10-05T09:00:00+01:00" },
          end: { dateTime: "2027-10-05T11:00:00+01:00" },
        },
      });
      const outcome = await runCalendarSync(hub.ctx, connectionId);
      expect(outcome.pull?.upserted).toBe(1);
      const deadline = Date.now() + 10_000;
      while (announced.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(announced).toEqual([{ room: `couple:${coupleId}`, supplierId }]);

      const call = apiClient(hub.url, token);
      const res = await call<{ vendors: { supplierId: string; busy: Record<string, unknown>[] }[] }>(
        "GET",
        `/couples/${coupleId}/availability?from=2027-10-01&to=2027-10-31`,
      );
      expect(res.status).toBe(200);
      const vendor = res.body.vendors.find((v) => v.supplierId === supplierId);
      expect(vendor?.busy).toEqual([
        { start: "2027-10-05T09:00:00+01:00", end: "2027-10-05T11:00:00+01:00", allDay: false, status: "busy" },
      ]);
      // The vendor's event title is not the couple's business.
      expect(JSON.stringify(res.body)).not.toContain("dentist");

      const bad = await call("GET", `/couples/${coupleId}/availability?from=2027-13-01`);
      expect(bad.status).toBe(422);
      expect(JSON.stringify(bad.body)).toMatch(/from/);
    } finally {
      listener.client.close();
    }
  });

  it("queues 'sync now' at once and skips connections that are no longer active", async () => {
    const { connectionId } = await setup(1);
    await requestCalendarSync(hub.ctx.db, connectionId, testActor);
    const job = await hub.ctx.db.execute<{ run_at: Date }>(
      sql`select run_at from graphile_worker.jobs where key = ${`calendar-sync:${connectionId}`}`,
    );
    expect(new Date(job.rows[0]!.run_at).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await hub.ctx.db.execute(sql`select graphile_worker.remove_job(${`calendar-sync:${connectionId}`})`);
    await hub.ctx.db.update(connections).set({ status: "needs_reconnect" }).where(eq(connections.id, connectionId));
    await expect(requestCalendarSync(hub.ctx.db, connectionId, testActor)).rejects.toThrow(/reconnect/);
    expect(await runCalendarSync(hub.ctx, connectionId)).toMatchObject({ status: "skipped" });
  });
});

describe("disconnecting a calendar", () => {
  it("removes the hub's events by default", async () => {
    const { supplierId, connectionId } = await setup(3);
    await runCalendarSync(hub.ctx, connectionId, { pull: false });
    const ids = (await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId))).map(
      (r) => r.providerEventId,
    );
    expect(ids).toHaveLength(3);
    const result = await disconnectConnection(hub.ctx, supplierId, connectionId, testActor);
    expect(result.calendarEvents).toEqual({ removed: 3 });
    const live = new Set(def.control.events("primary").map((e) => e.id));
    for (const id of ids) expect(live.has(id)).toBe(false);
  });

  it("leaves them when the vendor chose to keep them", async () => {
    const { supplierId, connectionId } = await setup(2);
    await runCalendarSync(hub.ctx, connectionId, { pull: false });
    await updateCalendarChoices(hub.ctx.db, supplierId, connectionId, { onDisconnect: "keep" }, testActor);
    const result = await disconnectConnection(hub.ctx, supplierId, connectionId, testActor);
    expect(result.calendarEvents).toEqual({ kept: true });
    const rows = await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    const live = new Set(def.control.events("primary").map((e) => e.id));
    for (const r of rows) expect(live.has(r.providerEventId)).toBe(true);
  });
});
