// Outlook calendars through the real Microsoft Graph SDK against the Graph
// simulator: idempotent push (transactionId adoption after a crash, updates in
// place with If-Match), incremental availability pull (deltaLink, 410 → full
// resync), and Graph change notifications (domain function and the HTTP route).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { RetryHandlerOptions } from "@microsoft/microsoft-graph-client";
import type { Event as GraphEvent } from "@microsoft/microsoft-graph-types";
import {
  availabilityBlocks,
  calendarChannels,
  calendarEvents,
  calendarSyncState,
  connections,
  coreFields,
  supplierCouples,
} from "../../db/schema";
import {
  HUB_TRANSACTION_PREFIX,
  outlookTransactionId,
  removeOutlookEvents,
  syncOutlookCalendar,
} from "../../app/calendar/outlook-push.server";
import { pullOutlookAvailability } from "../../app/calendar/outlook-pull.server";
import { graphClient } from "../../app/calendar/outlook-graph.server";
import {
  createGraphSubscription,
  deleteGraphSubscriptions,
  GRAPH_NOTIFICATION_PATH,
  graphSubscriptionIsLive,
  handleGraphNotification,
  renewGraphSubscriptions,
} from "../../app/calendar/graph-subscriptions.server";
import { calendarSyncJobKey } from "../../app/calendar/consumers.server";
import { calendarProviderFor } from "../../app/calendar/registry.server";
import { sha256 } from "../../app/crypto/secrets.server";
import { makeCouple, makeSupplier, startTestHub } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createMicrosoftGraphSimulator, type MicrosoftGraphSimulatorDefinition } from "../../simulators/microsoft-graph/index";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: MicrosoftGraphSimulatorDefinition;
let sim: RunningSimulator;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});
beforeEach(async () => {
  def = createMicrosoftGraphSimulator({ authorize: (token) => token === "t", validationTimeoutMs: 5_000 });
  sim = await startSimulator(def);
});
afterEach(async () => {
  await def?.control.flushNotifications();
  await sim?.close();
});

const day = (n: number) => `2027-07-${String(1 + (n % 28)).padStart(2, "0")}`;

/** A supplier with an Outlook connection and `n` connected couples, each with a wedding date. */
async function setup(n: number) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const [conn] = await db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "outlook-calendar",
      credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "t" }),
    })
    .returning();
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
  const connectionId = conn!.id;
  const push = (opts: Parameters<typeof syncOutlookCalendar>[2] = {}) =>
    syncOutlookCalendar(hub.ctx, connectionId, { rootUrl: sim.url, ...opts });
  const pull = (pageSize?: number) => pullOutlookAvailability(hub.ctx, connectionId, { rootUrl: sim.url, pageSize });
  return { supplier, connectionId, coupleIds, push, pull };
}

/** The vendor working in Outlook: the same mailbox through the SDK. */
const vendor = (path: string) =>
  graphClient(sim.url, "t")
    .api(path)
    .middlewareOptions([new RetryHandlerOptions(0, 0)]);

async function bumpFields(coupleId: string, patch: Record<string, unknown>) {
  const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
  await hub.ctx.db
    .update(coreFields)
    .set({ fields: { ...cf!.fields, ...patch }, version: cf!.version + 1 })
    .where(eq(coreFields.coupleId, coupleId));
}

const rowsOf = (connectionId: string) =>
  hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
const blocksOf = (connectionId: string) =>
  hub.ctx.db.select().from(availabilityBlocks).where(eq(availabilityBlocks.connectionId, connectionId));

describe("syncOutlookCalendar", () => {
  it("is registered as the outlook-calendar provider", () => {
    expect(calendarProviderFor("outlook-calendar")?.connectorId).toBe("outlook-calendar");
  });

  it("creates one event per couple from the outlook mapping and re-syncs without any call", async () => {
    const { push, connectionId, coupleIds } = await setup(12);
    expect(await push()).toMatchObject({ inserted: 12, adopted: 0, updated: 0, deleted: 0, unchanged: 0 });
    const calls = def.control.counters();
    expect(await push()).toMatchObject({ inserted: 0, updated: 0, unchanged: 12 });
    expect(def.control.counters()).toEqual(calls);

    const events = def.control.events();
    expect(events).toHaveLength(12);
    const key = `${coupleIds[0]}:ceremony`;
    const first = events.find((e) => e.transactionId === outlookTransactionId(connectionId, key))!;
    expect(first).toMatchObject({
      subject: "Wedding: Partner 0",
      isAllDay: false,
      originalStartTimeZone: "Europe/London",
      start: { dateTime: "2027-07-01T13:00:00.0000000", timeZone: "UTC" },
      end: { dateTime: "2027-07-01T17:30:00.0000000", timeZone: "UTC" },
    });
    expect(first.transactionId!.startsWith(HUB_TRANSACTION_PREFIX)).toBe(true);

    const rows = await rowsOf(connectionId);
    expect(rows).toHaveLength(12);
    expect(rows.every((r) => r.status === "active" && r.etag?.startsWith('W/"') && r.calendarId === "primary")).toBe(true);
    expect(new Set(rows.map((r) => r.providerEventId))).toEqual(new Set(events.map((e) => e.id)));
  });

  it("moves the same Graph event when the wedding date changes, and deletes it when the couple goes", async () => {
    const { push, connectionId, coupleIds, supplier } = await setup(3);
    await push();
    const [row] = await hub.ctx.db
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, `${coupleIds[1]}:ceremony`)));
    await bumpFields(coupleIds[1]!, { weddingDate: "2027-09-25" });

    expect(await push()).toMatchObject({ inserted: 0, updated: 1, unchanged: 2 });
    const moved = def.control.event(row!.providerEventId)!;
    expect(moved.start).toEqual({ dateTime: "2027-09-25T13:00:00.0000000", timeZone: "UTC" });
    expect(def.control.events()).toHaveLength(3);
    const [after] = await hub.ctx.db
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, `${coupleIds[1]}:ceremony`)));
    expect(after!.providerEventId).toBe(row!.providerEventId);
    expect(after!.etag).toBe(moved["@odata.etag"]);

    await hub.ctx.db
      .delete(supplierCouples)
      .where(and(eq(supplierCouples.supplierId, supplier.id), eq(supplierCouples.coupleId, coupleIds[2]!)));
    expect(await push()).toMatchObject({ deleted: 1, unchanged: 2 });
    expect(def.control.events()).toHaveLength(2);
    expect(def.control.counters()).toMatchObject({ creates: 3, updates: 1, deletes: 1 });
  });

  it("re-reads the etag on 412 when the vendor edited the event in Outlook", async () => {
    const { push, connectionId, coupleIds } = await setup(1);
    await push();
    const [row] = await rowsOf(connectionId);
    await vendor(`/me/events/${row!.providerEventId}`).patch({ categories: ["Red category"] });
    await bumpFields(coupleIds[0]!, { ceremonyTime: "15:00" });
    expect(await push()).toMatchObject({ updated: 1 });
    expect(def.control.event(row!.providerEventId)).toMatchObject({
      start: { dateTime: "2027-07-01T14:00:00.0000000" },
      categories: ["Red category"],
    });
    expect(def.control.counters()).toMatchObject({ gets: 1, updates: 2 });
  });

  it("adopts an event a crashed run created in Graph but never recorded (transactionId), never duplicating", async () => {
    const { push, connectionId } = await setup(20);
    let inserts = 0;
    await expect(
      push({
        afterProviderInsert: () => {
          if (++inserts === 5) throw new Error("crash after the provider insert");
        },
      }),
    ).rejects.toThrow("crash after the provider insert");
    expect(def.control.events()).toHaveLength(5);

    expect(await push()).toMatchObject({ inserted: 15, adopted: 1, unchanged: 4 });
    expect(def.control.events()).toHaveLength(20);

    // Lose every row: the next run adopts all 20 and creates nothing.
    await hub.ctx.db.delete(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    expect(await push()).toMatchObject({ inserted: 0, adopted: 20 });
    expect(await push()).toMatchObject({ unchanged: 20 });
    expect(def.control.events()).toHaveLength(20);
    expect(def.control.counters()).toMatchObject({ creates: 20, deduplicated: 21 });
  });

  it("puts an event the vendor deleted in Outlook back as a new one, and removeAll cleans up", async () => {
    const { push, connectionId, coupleIds } = await setup(2);
    await push();
    const [row] = (await rowsOf(connectionId)).filter((r) => r.eventKey === `${coupleIds[0]}:ceremony`);
    await vendor(`/me/events/${row!.providerEventId}`).delete();
    await bumpFields(coupleIds[0]!, { venueName: "The Barn" });
    expect(await push()).toMatchObject({ inserted: 1, unchanged: 1 });
    expect(def.control.events()).toHaveLength(2);

    expect(await removeOutlookEvents(hub.ctx, connectionId, { rootUrl: sim.url })).toBe(2);
    expect(def.control.events()).toHaveLength(0);
  });
});

describe("pullOutlookAvailability", () => {
  async function vendorEvent(n: number, extra: Record<string, unknown> = {}) {
    return (await vendor("/me/events").post({
      subject: `Shoot ${n}`,
      start: { dateTime: `2027-03-${String(1 + n).padStart(2, "0")}T09:00:00`, timeZone: "America/New_York" },
      end: { dateTime: `2027-03-${String(1 + n).padStart(2, "0")}T12:00:00`, timeZone: "America/New_York" },
      ...extra,
    })) as GraphEvent;
  }

  it("pulls in full over pages, then incrementally, ignoring the hub's own events; 410 resyncs without duplicates", async () => {
    const { push, pull, connectionId } = await setup(3);
    await push();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await vendorEvent(i)).id!);
    const allDay = await vendorEvent(10, {
      isAllDay: true,
      showAs: "free",
      start: { dateTime: "2027-04-01T00:00:00", timeZone: "UTC" },
      end: { dateTime: "2027-04-03T00:00:00", timeZone: "UTC" },
    });

    expect(await pull(3)).toEqual({ fullSync: true, upserted: 7, deleted: 0, skipped: 0, ignored: 3 });
    expect(def.control.counters().deltas).toBe(4); // 10 events in pages of 3
    const blocks = await blocksOf(connectionId);
    expect(blocks).toHaveLength(7);
    expect(blocks.find((b) => b.externalId === ids[0])).toMatchObject({
      startsAt: "2027-03-01T14:00:00Z",
      endsAt: "2027-03-01T17:00:00Z",
      allDay: false,
      status: "busy",
      summary: "Shoot 0",
    });
    expect(blocks.find((b) => b.externalId === allDay.id)).toMatchObject({
      startsAt: "2027-04-01",
      endsAt: "2027-04-03",
      allDay: true,
      status: "free",
    });
    const [state] = await hub.ctx.db.select().from(calendarSyncState).where(eq(calendarSyncState.connectionId, connectionId));
    expect(state!.syncToken).toContain("$deltatoken=");

    // Incremental: one moved, one deleted, one new.
    await vendor(`/me/events/${ids[1]}`).patch({ showAs: "tentative" });
    await vendor(`/me/events/${ids[2]}`).delete();
    const added = await vendorEvent(20);
    expect(await pull()).toEqual({ fullSync: false, upserted: 2, deleted: 1, skipped: 0, ignored: 0 });
    const after = await blocksOf(connectionId);
    expect(after).toHaveLength(7);
    expect(after.find((b) => b.externalId === ids[1])!.status).toBe("tentative");
    expect(after.some((b) => b.externalId === added.id)).toBe(true);
    expect(after.some((b) => b.externalId === ids[2])).toBe(false);

    // Nothing changed: an empty round.
    expect(await pull()).toMatchObject({ fullSync: false, upserted: 0, deleted: 0 });

    // Graph forgot the state: 410, a full pull replaces the blocks without duplicates.
    def.control.expireDeltaTokens();
    await vendor(`/me/events/${ids[3]}`).delete();
    expect(await pull(4)).toEqual({ fullSync: true, upserted: 6, deleted: 1, skipped: 0, ignored: 3 });
    const resynced = await blocksOf(connectionId);
    expect(resynced).toHaveLength(6);
    expect(new Set(resynced.map((b) => b.externalId)).size).toBe(6);
  });
});

// ---- notifications ----------------------------------------------------------

/** Sync jobs queued for a connection, as graphile-worker stores them. */
async function syncJobs(connectionId: string) {
  return (
    await hub.ctx.db.execute<{ key: string | null }>(
      sql`select j.key from graphile_worker._private_jobs j
          join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'sync_calendar' and j.payload->>'connectionId' = ${connectionId}`,
    )
  ).rows;
}

async function channelFor(connectionId: string, clientState: string, subscriptionId = crypto.randomUUID()) {
  await hub.ctx.db.insert(calendarChannels).values({
    connectionId,
    provider: "microsoft",
    channelId: subscriptionId,
    secretHash: sha256(clientState),
    expiresAt: new Date(Date.now() + 3600_000),
  });
  return subscriptionId;
}

const notification = (subscriptionId: string, clientState: string) => ({
  value: [
    {
      subscriptionId,
      clientState,
      changeType: "updated",
      resource: "Users/u/Events/AAMk",
      subscriptionExpirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      tenantId: "t",
    },
  ],
});

describe("handleGraphNotification", () => {
  it("echoes a validation token as text/plain", async () => {
    expect(await handleGraphNotification(hub.ctx, { validationToken: "Validation: abc 123" })).toMatchObject({
      status: 200,
      contentType: "text/plain",
      body: "Validation: abc 123",
    });
  });

  it("queues a sync for a notification with the right clientState", async () => {
    const { connectionId } = await setup(0);
    const sub = await channelFor(connectionId, "right-state");
    const res = await handleGraphNotification(hub.ctx, { body: notification(sub, "right-state") });
    expect(res).toMatchObject({ status: 202, queued: [connectionId] });
    expect(await syncJobs(connectionId)).toEqual([{ key: calendarSyncJobKey(connectionId) }]);
  });

  it("rejects a wrong clientState, an unknown subscription or a malformed body, queueing nothing", async () => {
    const { connectionId } = await setup(0);
    const sub = await channelFor(connectionId, "right-state");
    expect((await handleGraphNotification(hub.ctx, { body: notification(sub, "wrong-state") })).status).toBe(403);
    expect((await handleGraphNotification(hub.ctx, { body: notification(crypto.randomUUID(), "right-state") })).status).toBe(403);
    // A forged entry riding on a genuine one rejects the whole batch.
    const mixed = { value: [...notification(sub, "right-state").value, ...notification(sub, "forged").value] };
    expect((await handleGraphNotification(hub.ctx, { body: mixed })).status).toBe(403);
    expect((await handleGraphNotification(hub.ctx, { body: { value: "nope" } })).status).toBe(400);
    expect(await syncJobs(connectionId)).toEqual([]);
  });
});

describe("subscriptions through the running hub's route", () => {
  it("answers Graph's validation and a wrong clientState over HTTP", async () => {
    const url = `${hub.url}${GRAPH_NOTIFICATION_PATH}`;
    const echo = await fetch(`${url}?validationToken=${encodeURIComponent("Validation: hello & bye")}`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "",
    });
    expect(echo.status).toBe(200);
    expect(echo.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await echo.text()).toBe("Validation: hello & bye");

    const { connectionId } = await setup(0);
    const sub = await channelFor(connectionId, "right-state");
    const wrong = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(notification(sub, "wrong-state")),
    });
    expect(wrong.status).toBe(403);
    expect(await syncJobs(connectionId)).toEqual([]);
  });

  it("creates a Graph subscription the simulator validates against the hub, receives its notifications, renews and deletes it", async () => {
    const { connectionId } = await setup(0);
    const opts = { rootUrl: sim.url, notificationUrl: `${hub.url}${GRAPH_NOTIFICATION_PATH}` };
    const channel = await createGraphSubscription(hub.ctx, connectionId, opts);
    expect(channel).toMatchObject({ provider: "microsoft", status: "active" });
    const [sub] = def.control.subscriptions();
    expect(sub!.id).toBe(channel.channelId);
    expect(channel.secretHash).toBe(sha256(sub!.clientState!));
    expect((await createGraphSubscription(hub.ctx, connectionId, opts)).id).toBe(channel.id); // already there
    expect(await graphSubscriptionIsLive(hub.ctx, connectionId)).toBe(true);

    await vendor("/me/events").post({
      subject: "Dentist",
      start: { dateTime: "2027-02-01T09:00:00", timeZone: "UTC" },
      end: { dateTime: "2027-02-01T10:00:00", timeZone: "UTC" },
    });
    await def.control.flushNotifications();
    expect(def.control.deliveries().at(-1)).toMatchObject({ subscriptionId: sub!.id, status: 202 });
    expect(await syncJobs(connectionId)).toEqual([{ key: calendarSyncJobKey(connectionId) }]);

    expect(await renewGraphSubscriptions(hub.ctx, { ...opts, connectionId, withinMs: 10 * 24 * 3600 * 1000 })).toBe(1);
    expect(await deleteGraphSubscriptions(hub.ctx, connectionId, opts)).toBe(1);
    expect(def.control.subscriptions()).toEqual([]);
    const [stopped] = await hub.ctx.db.select().from(calendarChannels).where(eq(calendarChannels.id, channel.id));
    expect(stopped!.status).toBe("stopped");
  });
});
