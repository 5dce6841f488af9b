// The calendar contract's `exists` (what the consistency checker samples with),
// per provider through the registry: Google against the Google Calendar
// simulator, Outlook against the Graph simulator, Apple against Radicale. An
// event we pushed is present; deleted by the vendor it is gone (404/410); a
// refused sign-in is unchecked, never gone.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { google } from "googleapis";
import { RetryHandlerOptions } from "@microsoft/microsoft-graph-client";
import { calendarEvents, connections } from "../../db/schema";
import { calendarProviderFor } from "../../app/calendar/registry.server";
import type { CalendarEventRef } from "../../app/calendar/provider";
import { syncGoogleCalendar } from "../../app/calendar/google-push.server";
import { syncOutlookCalendar } from "../../app/calendar/outlook-push.server";
import { syncCalDavCalendar } from "../../app/calendar/caldav-push.server";
import { graphClient } from "../../app/calendar/outlook-graph.server";
import { makeCouple, makeSupplier, startTestHub } from "../helpers/hub";
import { startRadicale, type Radicale } from "../helpers/radicale";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator } from "../../simulators/google-calendar/index";
import { createMicrosoftGraphSimulator, type MicrosoftGraphSimulatorDefinition } from "../../simulators/microsoft-graph/index";

const USER = "vendor";
const PASSWORD = "app-pass-5678";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let googleSim: RunningSimulator;
let graphDef: MicrosoftGraphSimulatorDefinition;
let graphSim: RunningSimulator;
let radicale: Radicale;

beforeAll(async () => {
  googleSim = await startSimulator(createGoogleCalendarSimulator({ authorize: (token) => token === "t" }));
  graphDef = createMicrosoftGraphSimulator({ authorize: (token) => token === "t" });
  graphSim = await startSimulator(graphDef);
  radicale = await startRadicale({ [USER]: PASSWORD });
  hub = await startTestHub({ config: { providerApiRoots: { "google-calendar": `${googleSim.url}/` } } });
  // Graph's root comes from the connector's settings (this file's own database).
  await hub.ctx.db.execute(sql`insert into connectors (id, settings)
    values ('outlook-calendar', ${JSON.stringify({ apiRootUrl: graphSim.url })}::jsonb)
    on conflict (id) do update set settings = excluded.settings`);
});
afterAll(async () => {
  await hub?.stop();
  await radicale?.stop();
  await graphSim?.close();
  await googleSim?.close();
});

/** A supplier with a connection of `connectorId` and two couples with weddings. */
async function setup(connectorId: string, credentials: unknown, settings: Record<string, unknown> = {}) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const [conn] = await db
    .insert(connections)
    .values({ supplierId: supplier.id, connectorId, credentialsEnc: hub.ctx.vault.encryptJson(credentials), settings })
    .returning();
  const coupleIds: string[] = [];
  for (const day of [5, 6])
    coupleIds.push(
      await makeCouple(db, [supplier.id], {
        weddingDate: `2027-09-0${day}`,
        timezone: "Europe/London",
        ceremonyTime: "14:00",
        receptionTime: "18:30",
        partner1Name: `Partner ${day}`,
      }),
    );
  const refs = async (): Promise<CalendarEventRef[]> =>
    (await db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, conn!.id)))
      .sort((a, b) => a.eventKey.localeCompare(b.eventKey))
      .map((r) => ({ providerEventId: r.providerEventId, calendarId: r.calendarId }));
  const exists = (connectionId: string, list: CalendarEventRef[]) =>
    calendarProviderFor(connectorId)!.exists!(hub.ctx, connectionId, list);
  /** The same refs asked over a connection whose credentials the provider refuses. */
  const refused = async (badCredentials: unknown) => {
    const [bad] = await db
      .insert(connections)
      .values({ supplierId: supplier.id, connectorId, credentialsEnc: hub.ctx.vault.encryptJson(badCredentials), settings })
      .returning();
    return exists(bad!.id, await refs());
  };
  return { connectionId: conn!.id, refs, exists, refused };
}

describe("calendar provider exists()", () => {
  it("google: present, then gone (410) after the vendor deletes it, 404 for an id never used; refused token: unchecked", async () => {
    const s = await setup("google-calendar", { accessToken: "t" });
    await syncGoogleCalendar(hub.ctx, s.connectionId, { rootUrl: `${googleSim.url}/` });
    const refs = await s.refs();
    expect(refs).toHaveLength(2);
    expect(await s.exists(s.connectionId, refs)).toEqual([{ state: "present" }, { state: "present" }]);

    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: "t" });
    await google
      .calendar({ version: "v3", auth, rootUrl: `${googleSim.url}/` })
      .events.delete({ calendarId: "primary", eventId: refs[0]!.providerEventId });
    expect(await s.exists(s.connectionId, [...refs, { providerEventId: "neverused0", calendarId: "primary" }])).toEqual([
      { state: "gone", status: 410 },
      { state: "present" },
      { state: "gone", status: 404 },
    ]);

    const unchecked = await s.refused({ accessToken: "revoked" });
    expect(unchecked).toHaveLength(2);
    expect(unchecked.every((p) => p.state === "unchecked")).toBe(true);
  });

  it("outlook: present, then gone (404) after the vendor deletes it; refused token: unchecked", async () => {
    const s = await setup("outlook-calendar", { accessToken: "t" });
    await syncOutlookCalendar(hub.ctx, s.connectionId);
    const refs = await s.refs();
    expect(refs).toHaveLength(2);
    expect(await s.exists(s.connectionId, refs)).toEqual([{ state: "present" }, { state: "present" }]);

    await graphClient(graphSim.url, "t")
      .api(`/me/events/${encodeURIComponent(refs[1]!.providerEventId)}`)
      .middlewareOptions([new RetryHandlerOptions(0, 0)])
      .delete();
    expect(await s.exists(s.connectionId, refs)).toEqual([{ state: "present" }, { state: "gone", status: 404 }]);

    const unchecked = await s.refused({ accessToken: "revoked" });
    expect(unchecked.map((p) => p.state)).toEqual(["unchecked", "unchecked"]);
  });

  it("apple (CalDAV): present, then gone (404) after the vendor deletes it; wrong password or a foreign URL: unchecked", async () => {
    const calendarUrl = `${radicale.url}/${USER}/${crypto.randomBytes(6).toString("hex")}/`;
    const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    expect((await fetch(calendarUrl, { method: "MKCALENDAR", headers: { authorization: auth } })).status).toBe(201);
    const creds = { serverUrl: radicale.url, username: USER, password: PASSWORD };
    const s = await setup("apple-calendar", creds, { calendarId: calendarUrl });
    await syncCalDavCalendar(hub.ctx, s.connectionId);
    const refs = await s.refs();
    expect(refs).toHaveLength(2);
    expect(await s.exists(s.connectionId, refs)).toEqual([{ state: "present" }, { state: "present" }]);

    expect((await fetch(refs[0]!.providerEventId, { method: "DELETE", headers: { authorization: auth } })).status).toBeLessThan(
      300,
    );
    const foreign = { providerEventId: "http://203.0.113.9/elsewhere.ics", calendarId: calendarUrl };
    const answers = await s.exists(s.connectionId, [...refs, foreign]);
    expect(answers.slice(0, 2)).toEqual([{ state: "gone", status: 404 }, { state: "present" }]);
    expect(answers[2]).toMatchObject({ state: "unchecked" });

    const unchecked = await s.refused({ ...creds, password: "wrong-password" });
    expect(unchecked.map((p) => p.state)).toEqual(["unchecked", "unchecked"]);
  });
});
