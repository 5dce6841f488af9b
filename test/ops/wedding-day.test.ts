// Wedding-day mode: the 48-hour window in the couple's own time zone (pure),
// automatic and manual membership (audited), boosted job priority for the
// couple's work, bulk work yielding while that work waits, and the pre-warm
// that re-verifies vendors' calendars at the Google Calendar simulator.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { google } from "googleapis";
import { and, eq, sql } from "drizzle-orm";
import { auditLog, calendarEvents, connections, couples, weddingDayPrewarm } from "../../db/schema";
import {
  criticalWorkPending,
  CRITICAL_PRIORITY,
  setWeddingDayOverride,
  weddingDayCouples,
  weddingDayOf,
  weddingDayState,
  weddingDayWindow,
} from "../../app/wedding-day/mode.server";
import { prewarmWeddingDays } from "../../app/wedding-day/prewarm.server";
import { weddingDayHealth } from "../../app/wedding-day/health.server";
import { sendMessage } from "../../app/messaging/send.server";
import { enqueueCalendarSync } from "../../app/calendar/consumers.server";
import { syncGoogleCalendar } from "../../app/calendar/google-push.server";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";
import { makeCouple, makeSupplier, startTestHub, testActor, unique } from "../helpers/hub";

describe("the wedding-day window (pure)", () => {
  it("runs from local midnight 48 h before the date to the end of that day, in the couple's zone", () => {
    // London in summer is UTC+1: the 12 June wedding day starts at 11 June 23:00Z.
    expect(weddingDayWindow("2027-06-12", "Europe/London")).toEqual({
      start: new Date("2027-06-09T23:00:00Z"),
      end: new Date("2027-06-12T23:00:00Z"),
    });
    // Auckland is UTC+13 in January: the window ends while it is still the 12th in UTC.
    expect(weddingDayWindow("2027-01-12", "Pacific/Auckland")).toEqual({
      start: new Date("2027-01-09T11:00:00Z"),
      end: new Date("2027-01-12T11:00:00Z"),
    });
    // A wedding the day the clocks go forward in New York has a 23-hour day.
    const w = weddingDayWindow("2027-03-14", "America/New_York")!;
    expect(w.end.getTime() - (w.start.getTime() + 48 * 3600_000)).toBe(23 * 3600_000);
  });

  it("a wedding 24 h away is in the mode, one 72 h away is not, and the couple's zone decides", () => {
    const now = new Date("2027-06-10T12:00:00Z");
    const active = (date: string, tz: string) => weddingDayState(now, weddingDayWindow(date, tz), null).active;
    expect(active("2027-06-11", "UTC")).toBe(true); // begins in 12 h
    expect(active("2027-06-13", "UTC")).toBe(false); // begins in 60 h: the mode starts in 12 h
    // The same date in Kiritimati (UTC+14) begins 14 h earlier: already within 48 h there.
    expect(active("2027-06-13", "Pacific/Kiritimati")).toBe(true);
    expect(active("2027-06-13", "America/Los_Angeles")).toBe(false);
  });

  it("treats an unknown zone as UTC and a missing or malformed date as no window", () => {
    expect(weddingDayWindow("2027-06-12", "Mars/Olympus")).toEqual({
      start: new Date("2027-06-10T00:00:00Z"),
      end: new Date("2027-06-13T00:00:00Z"),
    });
    expect(weddingDayWindow(undefined, "UTC")).toBeNull();
    expect(weddingDayWindow("12/06/2027", "UTC")).toBeNull();
  });

  it("is active inside the window unless ops switched it off; switched on it is active whatever the date", () => {
    const w = weddingDayWindow("2027-06-12", "UTC");
    const inside = new Date("2027-06-11T08:00:00Z");
    const before = new Date("2027-06-09T23:59:59Z");
    expect(weddingDayState(inside, w, null)).toMatchObject({ active: true, source: "auto" });
    expect(weddingDayState(before, w, null).active).toBe(false);
    expect(weddingDayState(new Date("2027-06-13T00:00:00Z"), w, null).active).toBe(false);
    expect(weddingDayState(inside, w, false)).toMatchObject({ active: false, source: "off" });
    expect(weddingDayState(before, null, true)).toMatchObject({ active: true, source: "on" });
  });
});

let hub: Awaited<ReturnType<typeof startTestHub>>;
let calendarDef: GoogleCalendarSimulatorDefinition;
let calendarSim: RunningSimulator;

beforeAll(async () => {
  calendarDef = createGoogleCalendarSimulator({ authorize: (token) => token === "t" });
  calendarSim = await startSimulator(calendarDef);
  hub = await startTestHub({ config: { providerApiRoots: { "google-calendar": `${calendarSim.url}/` } } });
});
afterAll(async () => {
  await hub?.stop();
  await calendarSim?.close();
});

/** The local date `days` from now in `timeZone`. */
function localDate(days: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date(Date.now() + days * 86_400_000));
}

async function jobPriority(task: string, key: string): Promise<number> {
  const res = await hub.ctx.db.execute<{ priority: number }>(sql`select j.priority from graphile_worker._private_jobs j
    join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = ${task} and j.key = ${key}`);
  expect(res.rows).toHaveLength(1);
  return res.rows[0]!.priority;
}

describe("wedding-day membership and priority", () => {
  it("includes tomorrow's wedding automatically, not next month's; ops switch either way, audited", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const soon = await makeCouple(hub.ctx.db, [supplier.id], {
      weddingDate: localDate(1, "America/Los_Angeles"),
      timezone: "America/Los_Angeles",
    });
    const later = await makeCouple(hub.ctx.db, [supplier.id], { weddingDate: localDate(30, "UTC"), timezone: "UTC" });
    const ids = async () => (await weddingDayCouples(hub.ctx.db)).map((c) => c.coupleId);
    expect(await ids()).toContain(soon);
    expect(await ids()).not.toContain(later);

    await setWeddingDayOverride(hub.ctx.db, later, "on", testActor);
    await setWeddingDayOverride(hub.ctx.db, soon, "off", testActor);
    expect(await ids()).toContain(later);
    expect(await ids()).not.toContain(soon);
    expect((await weddingDayOf(hub.ctx.db, soon))!.state.source).toBe("off");

    await setWeddingDayOverride(hub.ctx.db, soon, "auto", testActor);
    expect(await ids()).toContain(soon);
    const trail = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "wedding_day.override"), eq(auditLog.entityId, soon)))
      .orderBy(auditLog.id);
    expect(trail.map((a) => [a.before, a.after])).toEqual([
      [{ override: "auto" }, { override: "off" }],
      [{ override: "off" }, { override: "auto" }],
    ]);
    await expect(setWeddingDayOverride(hub.ctx.db, crypto.randomUUID(), "on", testActor)).rejects.toThrow(/No couple/);
  });

  it("a wedding-day couple's messages and calendar syncs queue ahead of routine ones", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const today = await makeCouple(hub.ctx.db, [supplier.id], { weddingDate: localDate(0, "UTC"), timezone: "UTC" });
    const other = await makeCouple(hub.ctx.db, [], { weddingDate: localDate(40, "UTC"), timezone: "UTC" });
    const send = async (coupleId: string) => {
      const { messages } = await sendMessage(hub.ctx.db, {
        recipients: [`${unique("wd")}@example.com`],
        channel: "email",
        template: "alert_raised",
        data: { title: "t", severity: "info", detail: "d" },
        idempotencyKey: unique("wd"),
        coupleId,
      });
      return jobPriority("deliver_message", `message:${messages[0]!.id}`);
    };
    expect(await send(today)).toBeLessThanOrEqual(CRITICAL_PRIORITY);
    expect(await send(other)).toBe(0);

    const [conn] = await hub.ctx.db
      .insert(connections)
      .values({ supplierId: supplier.id, connectorId: "google-calendar", credentialsEnc: hub.ctx.vault.encryptJson({}) })
      .returning();
    const lonely = await makeSupplier(hub.ctx.db);
    const [routine] = await hub.ctx.db
      .insert(connections)
      .values({ supplierId: lonely.id, connectorId: "google-calendar", credentialsEnc: hub.ctx.vault.encryptJson({}) })
      .returning();
    await enqueueCalendarSync(hub.ctx.db, conn!.id);
    await enqueueCalendarSync(hub.ctx.db, routine!.id);
    expect(await jobPriority("sync_calendar", `calendar-sync:${conn!.id}`)).toBe(CRITICAL_PRIORITY);
    expect(await jobPriority("sync_calendar", `calendar-sync:${routine!.id}`)).toBe(0);
    // Those boosted jobs are due within seconds: bulk work would yield to them.
    await hub.ctx.db.execute(sql`update graphile_worker._private_jobs set run_at = now() - interval '1 second'
      where key = ${`calendar-sync:${conn!.id}`}`);
    expect(await criticalWorkPending(hub.ctx.db)).toBe(true);
    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where priority <= ${CRITICAL_PRIORITY}`);
    expect(await criticalWorkPending(hub.ctx.db)).toBe(false);
  });
});

describe("pre-warm", () => {
  it("re-verifies the wedding's events at the provider, queues a sync when one is gone, and flags a token that cannot be refreshed", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const coupleId = await makeCouple(hub.ctx.db, [supplier.id], {
      weddingDate: localDate(1, "Europe/London"),
      timezone: "Europe/London",
      ceremonyTime: "14:00",
      partner1Name: "Sam",
    });
    const [conn] = await hub.ctx.db
      .insert(connections)
      .values({
        supplierId: supplier.id,
        connectorId: "google-calendar",
        credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "t" }),
      })
      .returning();
    const lastPrewarm = async () =>
      (await hub.ctx.db.select().from(weddingDayPrewarm).where(eq(weddingDayPrewarm.connectionId, conn!.id)))[0]!;

    // Nothing pushed yet for this wedding: not verified, a sync is queued to put it there.
    await prewarmWeddingDays(hub.ctx);
    expect(await lastPrewarm()).toMatchObject({ calendarVerified: false, error: null });
    expect(await jobPriority("sync_calendar", `calendar-sync:${conn!.id}`)).toBe(CRITICAL_PRIORITY);

    await syncGoogleCalendar(hub.ctx, conn!.id, { rootUrl: `${calendarSim.url}/` });
    await prewarmWeddingDays(hub.ctx);
    expect(await lastPrewarm()).toMatchObject({ calendarVerified: true, error: null });

    // The vendor deleted the wedding from their calendar: the next pre-warm notices.
    const [link] = await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, conn!.id));
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: "t" });
    await google
      .calendar({ version: "v3", auth, rootUrl: `${calendarSim.url}/` })
      .events.delete({ calendarId: link!.calendarId, eventId: link!.providerEventId });
    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where key = ${`calendar-sync:${conn!.id}`}`);
    await prewarmWeddingDays(hub.ctx);
    expect(await lastPrewarm()).toMatchObject({ calendarVerified: false });
    expect(await jobPriority("sync_calendar", `calendar-sync:${conn!.id}`)).toBe(CRITICAL_PRIORITY);
    // That sync puts the wedding back (a new event at Google), and the next pre-warm finds it.
    const again = await syncGoogleCalendar(hub.ctx, conn!.id, { rootUrl: `${calendarSim.url}/` });
    expect(again.inserted).toBe(1);
    expect(calendarDef.control.events(link!.calendarId)).toHaveLength(1);
    await prewarmWeddingDays(hub.ctx);
    expect(await lastPrewarm()).toMatchObject({ calendarVerified: true });

    // A token expiring within the horizon and no refresh token: named as needing a reconnect.
    await hub.ctx.db
      .update(connections)
      .set({ tokenExpiresAt: new Date(Date.now() + 3600_000) })
      .where(eq(connections.id, conn!.id));
    await prewarmWeddingDays(hub.ctx);
    expect((await lastPrewarm()).error).toMatch(/reconnect/);
    const health = (await weddingDayHealth(hub.ctx)).find((h) => h.coupleId === coupleId)!;
    expect(health.health).toBe("red");
    expect(health.connectionsNeedingReconnect).toBe(1);

    // Switched off by ops, it is no longer pre-warmed or listed.
    await setWeddingDayOverride(hub.ctx.db, coupleId, "off", testActor);
    expect((await weddingDayHealth(hub.ctx)).some((h) => h.coupleId === coupleId)).toBe(false);
    const [row] = await hub.ctx.db.select().from(couples).where(eq(couples.id, coupleId));
    expect(row!.weddingDayOverride).toBe(false);
  });
});
