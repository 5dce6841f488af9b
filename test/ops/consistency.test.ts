// The consistency checker over a real hub, database and Google Calendar
// simulator: a clean world has nothing to report (and a finished run proves it
// ran); tampering in SQL and at the provider makes each item show up, named;
// repairing makes the next run resolve them; the KPI is unknown before the
// first run and the open count after. Plus the console page and "run now".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { google } from "googleapis";
import type { JobHelpers } from "graphile-worker";
import {
  auditLog,
  calendarEvents,
  connections,
  consistencyFindings,
  consistencyRuns,
  couples,
  coreFields,
  events,
  messages,
  supplierCouples,
  syncRuns,
  webhookDeliveries,
  webhookEndpoints,
} from "../../db/schema";
import { updateCoreFields } from "../../app/core-fields/write.server";
import { systemPrincipal } from "../../app/core-fields/principal";
import { syncGoogleCalendar } from "../../app/calendar/google-push.server";
import { enqueueJob } from "../../app/jobs/enqueue.server";
import { deliverJobKey } from "../../app/messaging/send.server";
import { importJobKey } from "../../app/import/engine.server";
import { enqueueDeliveryQueue } from "../../app/webhooks/outbound/queue.server";
import { computeKpis, KPI_BY_ID } from "../../app/ops/kpis.server";
import { SnapshotReader } from "../../app/ops/snapshots.server";
import {
  CONSISTENCY_JOB_KEY,
  CONSISTENCY_TASK,
  calendarEntityId,
  runConsistencyCheck,
  type ConsistencyRunSummary,
} from "../../app/ops/consistency.server";
import { createTaskList } from "../../workers/index";
import { CRONTAB } from "../../workers/crontab";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, startTestHub, unique } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;

const staff = systemPrincipal("consistency test", "staff");
const HOUR_AGO = () => new Date(Date.now() - 3_600_000);

beforeAll(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === "t" });
  sim = await startSimulator(def);
  // Web only: no worker takes the jobs this file queues (their presence is what the checker looks at).
  hub = await startTestHub({ config: { providerApiRoots: { "google-calendar": `${sim.url}/` } } });
});
afterAll(async () => {
  await hub?.stop();
  await sim?.close();
});

const db = () => hub.ctx.db;

/** A couple written the real way: version 0, then `writes` core-field updates (versions, events, audit). */
async function couple(supplierId: string, writes: number, day: number): Promise<string> {
  const [c] = await db()
    .insert(couples)
    .values({ displayName: unique("Couple") })
    .returning();
  await db().insert(coreFields).values({ coupleId: c!.id, version: 0, fields: {}, lastSeq: 0 });
  await db().insert(supplierCouples).values({ supplierId, coupleId: c!.id });
  await updateCoreFields(db(), staff, {
    coupleId: c!.id,
    patch: {
      weddingDate: `2027-08-${String(day).padStart(2, "0")}`,
      timezone: "Europe/London",
      ceremonyTime: "14:00",
      receptionTime: "18:30",
      partner1Name: `Partner ${day}`,
    },
    expectedVersion: "current",
  });
  for (let i = 1; i < writes; i++)
    await updateCoreFields(db(), staff, { coupleId: c!.id, patch: { guestCount: 100 + i }, expectedVersion: "current" });
  return c!.id;
}

async function dataInconsistencyKpi(): Promise<number | null> {
  const snap = await computeKpis(db(), new SnapshotReader(db()));
  return snap.kpis.find((k) => k.id === "data_inconsistency_count")!.value;
}

const openFindings = () =>
  db()
    .select()
    .from(consistencyFindings)
    .where(sql`${consistencyFindings.resolvedAt} is null`);

const outcome = (s: ConsistencyRunSummary, invariant: string) => s.outcomes.find((o) => o.invariant === invariant)!;

interface World {
  supplierId: string;
  connectionId: string;
  coupleA: string;
  coupleB: string;
  coupleC: string;
  endpointId: string;
  push: () => ReturnType<typeof syncGoogleCalendar>;
}
let world: World;

describe("consistency checker", () => {
  it("the KPI is unknown before the first run", async () => {
    expect(await dataInconsistencyKpi()).toBeNull();
    expect(KPI_BY_ID.get("data_inconsistency_count")!.drill).toBe("/console/consistency");
  });

  it("a clean world has zero findings and a finished run", async () => {
    const supplier = await makeSupplier(db());
    const [conn] = await db()
      .insert(connections)
      .values({
        supplierId: supplier.id,
        connectorId: "google-calendar",
        credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "t" }),
      })
      .returning();
    const coupleA = await couple(supplier.id, 3, 1);
    const coupleB = await couple(supplier.id, 2, 2);
    const coupleC = await couple(supplier.id, 2, 3);
    const push = () => syncGoogleCalendar(hub.ctx, conn!.id, { rootUrl: `${sim.url}/` });
    expect(await push()).toMatchObject({ inserted: 3 });

    // Waiting work that is fine: a delivery past its time with its job, one behind a disabled endpoint,
    // a message held for quiet hours, an import with its job.
    const [endpoint] = await db()
      .insert(webhookEndpoints)
      .values({ direction: "out", supplierId: supplier.id, name: unique("out"), url: "https://example.test/hook" })
      .returning();
    const [disabled] = await db()
      .insert(webhookEndpoints)
      .values({ direction: "out", name: unique("off"), url: "https://example.test/off", status: "disabled" })
      .returning();
    await db()
      .insert(webhookDeliveries)
      .values([
        {
          endpointId: endpoint!.id,
          externalId: unique("ok"),
          coupleId: coupleA,
          seq: 1,
          status: "pending",
          createdAt: HOUR_AGO(),
        },
        {
          endpointId: disabled!.id,
          externalId: unique("held"),
          coupleId: coupleA,
          seq: 1,
          status: "pending",
          createdAt: HOUR_AGO(),
        },
      ]);
    await enqueueDeliveryQueue(db(), endpoint!.id, coupleA);
    await db()
      .insert(messages)
      .values({
        channel: "email",
        recipient: "later@example.test",
        template: "alert_raised",
        idempotencyKey: unique("quiet"),
        createdAt: HOUR_AGO(),
        notBefore: new Date(Date.now() + 3_600_000),
      });
    const [run] = await db()
      .insert(syncRuns)
      .values({ kind: "import", status: "running", supplierId: supplier.id, createdAt: HOUR_AGO(), startedAt: HOUR_AGO() })
      .returning();
    await enqueueJob(db(), "import_clients", { runId: run!.id }, { jobKey: importJobKey(run!.id) });
    world = { supplierId: supplier.id, connectionId: conn!.id, coupleA, coupleB, coupleC, endpointId: endpoint!.id, push };

    const summary = await runConsistencyCheck(hub.ctx);
    expect(summary.found).toBe(0);
    expect(summary.outcomes.every((o) => o.found === 0 && !o.error)).toBe(true);
    expect(outcome(summary, "core_fields_version").checked).toBe(3);
    expect(outcome(summary, "event_seq_gap").checked).toBe(3);
    expect(outcome(summary, "calendar_event_missing")).toMatchObject({ checked: 3, unchecked: 0 });
    expect(outcome(summary, "stuck_webhook_delivery").checked).toBe(1); // the disabled endpoint's is not a candidate
    expect(outcome(summary, "stuck_message").checked).toBe(1);
    expect(outcome(summary, "stuck_import_run").checked).toBe(1);

    const [row] = await db().select().from(consistencyRuns).where(eq(consistencyRuns.id, summary.runId));
    expect(row!.finishedAt).not.toBeNull();
    expect(row!.error).toBeNull();
    expect(row!.found).toBe(0);
    expect(row!.checked).toMatchObject({
      core_fields_version: { checked: 3, found: 0 },
      calendar_event_missing: { checked: 3, found: 0, unchecked: 0 },
    });
    expect(await openFindings()).toHaveLength(0);
    expect(await dataInconsistencyKpi()).toBe(0);
  });

  it("names each tampered item, and a second run keeps one open finding per item", async () => {
    const { coupleA, coupleB, coupleC, connectionId, endpointId } = world;
    // A skipped sequence number: couple A's second event goes.
    await db()
      .delete(events)
      .where(and(eq(events.coupleId, coupleA), eq(events.seq, 2)));
    // A version without its event (or stored version): couple B's row moves on alone.
    await db().execute(sql`update core_fields set version = version + 1 where couple_id = ${coupleB}`);
    // A last_seq past the events: couple C (also a gap at the end).
    await db().execute(sql`update core_fields set last_seq = last_seq + 1 where couple_id = ${coupleC}`);
    // The vendor deletes our event in Google Calendar.
    const [mapping] = await db()
      .select()
      .from(calendarEvents)
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, `${coupleA}:ceremony`)));
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: "t" });
    await google
      .calendar({ version: "v3", auth, rootUrl: `${sim.url}/` })
      .events.delete({ calendarId: "primary", eventId: mapping!.providerEventId });
    // Work left waiting in the past with no job.
    const [delivery] = await db()
      .insert(webhookDeliveries)
      .values({ endpointId, externalId: unique("stuck"), coupleId: coupleB, seq: 1, status: "pending", createdAt: HOUR_AGO() })
      .returning();
    const [message] = await db()
      .insert(messages)
      .values({
        channel: "email",
        recipient: "stuck@example.test",
        template: "alert_raised",
        idempotencyKey: unique("stuck"),
        createdAt: HOUR_AGO(),
      })
      .returning();
    const [importRun] = await db()
      .insert(syncRuns)
      .values({ kind: "import", status: "queued", supplierId: world.supplierId, createdAt: HOUR_AGO() })
      .returning();
    // Recent work without a job yet is within the grace period: not stuck.
    await db()
      .insert(messages)
      .values({ channel: "email", recipient: "fresh@example.test", template: "alert_raised", idempotencyKey: unique("fresh") });

    const summary = await runConsistencyCheck(hub.ctx);
    const open = await openFindings();
    const named = (invariant: string, entityId: string) => open.find((f) => f.invariant === invariant && f.entityId === entityId);

    expect(named("event_seq_gap", coupleA)).toMatchObject({
      entityType: "couple",
      detail: { lastSeq: 3, present: 2, missing: 1, gaps: [[2, 2]] },
    });
    expect(named("core_fields_version", coupleB)).toMatchObject({ entityType: "couple", detail: { expected: 2, found: 3 } });
    expect(named("core_fields_last_seq", coupleC)).toMatchObject({ entityType: "couple", detail: { expected: 2, found: 3 } });
    expect(named("event_seq_gap", coupleC)).toMatchObject({ detail: { gaps: [[3, 3]] } });
    expect(named("calendar_event_missing", calendarEntityId(connectionId, `${coupleA}:ceremony`))).toMatchObject({
      entityType: "calendar_event",
      detail: { connector: "google-calendar", providerEventId: mapping!.providerEventId, provider: 410 },
    });
    expect(named("stuck_webhook_delivery", delivery!.id)).toMatchObject({
      entityType: "webhook_delivery",
      detail: { direction: "out", endpointId, coupleId: coupleB, status: "pending" },
    });
    expect(named("stuck_message", message!.id)).toMatchObject({ entityType: "message", detail: { status: "queued" } });
    expect(named("stuck_import_run", importRun!.id)).toMatchObject({ entityType: "sync_run", detail: { status: "queued" } });
    expect(open).toHaveLength(8);
    expect(summary).toMatchObject({ found: 8, opened: 8, resolved: 0 });
    expect(await dataInconsistencyKpi()).toBe(8);

    // The same world again: the same eight findings, seen again, not duplicated.
    const again = await runConsistencyCheck(hub.ctx);
    expect(again).toMatchObject({ found: 8, opened: 0, resolved: 0 });
    const reopened = await openFindings();
    expect(reopened.map((f) => f.id).sort()).toEqual(open.map((f) => f.id).sort());
    for (const f of reopened)
      expect(f.lastSeenAt.getTime()).toBeGreaterThan(open.find((o) => o.id === f.id)!.lastSeenAt.getTime());
    expect(await dataInconsistencyKpi()).toBe(8);

    // The console names them: open findings with links to the items' pages.
    const { email, password } = await makeUser(db(), "integration");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const page = await client.get("/console/consistency");
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-open-findings="8"');
    expect(page.text).toContain(`href="/console/couples/${coupleB}"`);
    expect(page.text).toContain("expected 2, found 3");
    expect(page.text).toContain(`href="/console/messages/${message!.id}"`);
    expect(page.text).toContain(`href="/console/imports/${importRun!.id}"`);
    expect(page.text).toContain(`href="/console/webhooks/out/${endpointId}"`);
    // Integration staff may look but not run it.
    expect(page.text).not.toContain("Run now");
  });

  it("resolves what was repaired at the next run", async () => {
    const { coupleA, coupleB, coupleC, connectionId, endpointId } = world;
    const open = await openFindings();
    const id = (invariant: string) => open.find((f) => f.invariant === invariant)!.entityId;

    // The deleted event comes back from the couple's version history of events.
    await db().execute(sql`insert into events (couple_id, seq, type, changed_fields, version, source, actor)
      values (${coupleA}, 2, 'core_fields.updated', '{}'::jsonb, 2, 'console', 'repair')`);
    await db().execute(sql`update core_fields set version = version - 1 where couple_id = ${coupleB}`);
    await db().execute(sql`update core_fields set last_seq = last_seq - 1 where couple_id = ${coupleC}`);
    // The calendar: a changed payload makes the push find the event gone (410) and put it back under a new id.
    await db()
      .update(calendarEvents)
      .set({ payloadHash: "stale" })
      .where(and(eq(calendarEvents.connectionId, connectionId), eq(calendarEvents.eventKey, `${coupleA}:ceremony`)));
    expect(await world.push()).toMatchObject({ inserted: 1 });
    // Stuck work gets its jobs.
    await enqueueDeliveryQueue(db(), endpointId, coupleB);
    await enqueueJob(db(), "deliver_message", { messageId: id("stuck_message") }, { jobKey: deliverJobKey(id("stuck_message")) });
    await enqueueJob(db(), "import_clients", { runId: id("stuck_import_run") }, { jobKey: importJobKey(id("stuck_import_run")) });

    const summary = await runConsistencyCheck(hub.ctx);
    expect(summary).toMatchObject({ found: 0, opened: 0, resolved: 8 });
    expect(await openFindings()).toHaveLength(0);
    const resolved = await db().select().from(consistencyFindings);
    expect(resolved).toHaveLength(8);
    expect(resolved.every((f) => f.resolvedAt !== null)).toBe(true);
    expect(await dataInconsistencyKpi()).toBe(0);
  });

  it("counts calendar events it could not ask about as unchecked, never as findings", async () => {
    const [refused] = await db()
      .insert(connections)
      .values({
        supplierId: world.supplierId,
        connectorId: "google-calendar",
        credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "revoked" }),
      })
      .returning();
    await db()
      .insert(calendarEvents)
      .values({
        connectionId: refused!.id,
        eventKey: `${world.coupleA}:ceremony`,
        providerEventId: "abc123",
        calendarId: "primary",
        payloadHash: "h",
      });
    const summary = await runConsistencyCheck(hub.ctx, { only: ["calendar_event_missing"] });
    expect(outcome(summary, "calendar_event_missing")).toMatchObject({ checked: 3, found: 0, unchecked: 1 });
    expect(await openFindings()).toHaveLength(0);

    // The sample size bounds the calls.
    const small = await runConsistencyCheck(hub.ctx, { only: ["calendar_event_missing"], calendarSample: 2 });
    const o = outcome(small, "calendar_event_missing");
    expect(o.checked + o.unchecked!).toBe(2);
    await db().delete(connections).where(eq(connections.id, refused!.id));
  });

  it("is a registered task in the crontab, and 'run now' queues one job however often it is pressed (audited, CSRF)", async () => {
    expect(CRONTAB).toMatch(/^\*\/5 \* \* \* \* check_consistency \?.*queue=consistency/m);
    const task = createTaskList(hub.ctx)[CONSISTENCY_TASK]!;
    const before = await db().select().from(consistencyRuns);
    await task({ _cron: { ts: new Date().toISOString(), backfilled: false } }, {} as JobHelpers);
    const after = await db().select().from(consistencyRuns);
    expect(after.length).toBe(before.length + 1);

    const { email, password } = await makeUser(db(), "ops");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const page = await client.get("/console/consistency");
    expect(page.text).toContain("Run now");
    expect((await client.post("/console/consistency", { intent: "run" }, { withCsrf: false })).status).toBe(403);
    for (let i = 0; i < 3; i++) expect((await client.post("/console/consistency", { intent: "run" })).status).toBe(200);
    const jobs = await db().execute<{ n: string }>(
      sql`select count(*) as n from graphile_worker._private_jobs where key = ${CONSISTENCY_JOB_KEY}`,
    );
    expect(Number(jobs.rows[0]!.n)).toBe(1);
    const audited = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "consistency.run_requested"), eq(auditLog.actorLabel, email)));
    expect(audited).toHaveLength(3);
    expect((await client.get("/console/consistency")).text).toContain("Check queued");

    // Integration staff cannot press it.
    const other = await makeUser(db(), "integration");
    const viewer = new FormClient(hub.url);
    await viewer.signIn(other.email, other.password);
    await viewer.get("/console/consistency");
    expect((await viewer.post("/console/consistency", { intent: "run" })).status).toBe(403);

    // The dashboard's tile drills down here.
    expect((await client.get("/console")).text).toContain('href="/console/consistency"');
  });
});
