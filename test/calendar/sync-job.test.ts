// The calendar sync as a graphile-worker job run by real worker processes:
// a worker killed with SIGKILL mid-sync, another worker finishing the push, and
// re-runs that change nothing: exactly one Google event per couple. A core-field
// write queues the sync in its own transaction.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { calendarEvents, connections } from "../../db/schema";
import { googleEventId } from "../../app/calendar/google-push.server";
import { calendarSyncJobKey, enqueueCalendarSync } from "../../app/calendar/consumers.server";
import { updateCoreFields } from "../../app/core-fields/write.server";
import { systemPrincipal } from "../../app/core-fields/principal";
import { makeCouple, makeSupplier, startTestHub, testDatabaseUrl } from "../helpers/hub";
import { spawnHub, waitFor, type HubProcess } from "../helpers/processes";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

const CONNECTOR = "google-calendar";
const COUPLES = 100;

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;
const workers: HubProcess[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  def = createGoogleCalendarSimulator({ authorize: (token) => token === "sync-job-token" });
  sim = await startSimulator(def);
  // Worker processes find the API root in the connector's settings (how they are pointed at the simulator).
  await hub.ctx.db.execute(
    sql`insert into connectors (id, settings) values (${CONNECTOR}, ${JSON.stringify({ apiRootUrl: `${sim.url}/` })}::jsonb)
        on conflict (id) do update set settings = connectors.settings || excluded.settings`,
  );
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await hub?.ctx.db.execute(sql`update connectors set settings = settings - 'apiRootUrl' where id = ${CONNECTOR}`);
  await sim?.close();
  await hub?.stop();
});

const day = (n: number) => `2027-08-${String(1 + (n % 28)).padStart(2, "0")}`;

async function setup(n: number) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const [conn] = await db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: CONNECTOR,
      credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "sync-job-token" }),
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
  return { supplierId: supplier.id, connectionId: conn!.id, coupleIds };
}

/** Sync jobs for this connection, as graphile-worker stores them. */
async function syncJobs(connectionId: string) {
  return (
    await hub.ctx.db.execute<{ id: string; key: string | null; locked_at: Date | null; run_at: Date }>(
      sql`select j.id::text, j.key, j.locked_at, j.run_at from graphile_worker._private_jobs j
          join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'sync_calendar' and j.payload->>'connectionId' = ${connectionId}`,
    )
  ).rows;
}

function startWorker(): HubProcess {
  const key = hub.ctx.config.encryptionKeys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
  const w = spawnHub(["--role=worker"], { DATABASE_URL: testDatabaseUrl(), HUB_ENCRYPTION_KEYS: key, WORKER_CONCURRENCY: "2" });
  workers.push(w);
  return w;
}

const doneRuns = (w: HubProcess) => (w.output().match(/calendar sync job done/g) ?? []).length;
const inserts = () => def.control.counters("primary").inserts;

describe("sync_calendar job", () => {
  it("survives a worker killed mid-sync: exactly one event per couple after re-runs", async () => {
    const { connectionId, coupleIds } = await setup(COUPLES);
    const first = startWorker();
    await waitFor(async () => first.output().includes("workers started"), "first worker", 60_000);

    // Slow the provider down so that the kill lands in the middle of the push.
    sim.setFaults({ latencyMs: 25 });
    await enqueueCalendarSync(hub.ctx.db, connectionId, { delayMs: 0, pull: false });
    const deadline = Date.now() + 60_000;
    while (inserts() < 30) {
      if (Date.now() > deadline) throw new Error(`sync did not start: ${first.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    first.child.kill("SIGKILL");
    await first.exited;
    const atKill = inserts();
    expect(atKill).toBeGreaterThanOrEqual(30);
    expect(atKill).toBeLessThan(COUPLES);
    // The killed worker's job stays locked (graphile-worker frees it only after 4 hours).
    const orphaned = await syncJobs(connectionId);
    expect(orphaned).toHaveLength(1);
    expect(orphaned[0]!.locked_at).not.toBeNull();

    sim.setFaults({ latencyMs: 0 });
    const second = startWorker();
    await waitFor(async () => second.output().includes("workers started"), "second worker", 60_000);
    // Same key, "replace": the locked job gives up its key and a new job is queued.
    await enqueueCalendarSync(hub.ctx.db, connectionId, { delayMs: 0, pull: false });
    await waitFor(async () => doneRuns(second) === 1, "the sync to finish", 60_000);
    expect(def.control.events("primary")).toHaveLength(COUPLES);

    for (const run of [2, 3]) {
      await enqueueCalendarSync(hub.ctx.db, connectionId, { delayMs: 0, pull: false });
      await waitFor(async () => doneRuns(second) === run, `sync run ${run}`, 60_000);
    }
    expect(second.output()).toMatch(/"inserted":0,"adopted":0,"updated":0,"deleted":0,"unchanged":100/);

    const events = def.control.events("primary");
    expect(events).toHaveLength(COUPLES);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(COUPLES);
    expect(new Set(ids)).toEqual(new Set(coupleIds.map((c) => googleEventId(connectionId, `${c}:ceremony`))));
    // The killed run may have had one insert in flight: adopted (409) on the next run, never duplicated.
    expect(inserts()).toBe(COUPLES);

    const rows = await hub.ctx.db.select().from(calendarEvents).where(eq(calendarEvents.connectionId, connectionId));
    expect(rows).toHaveLength(COUPLES);
    expect(rows.every((r) => r.status === "active")).toBe(true);
    expect(new Set(rows.map((r) => r.providerEventId))).toEqual(new Set(ids));

    // Only the orphaned (keyless, locked) job is left; drop it so it never runs in 4 hours.
    const left = await syncJobs(connectionId);
    expect(left.map((j) => j.id)).toEqual([orphaned[0]!.id]);
    expect(left[0]!.key).toBeNull();
    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where id = ${orphaned[0]!.id}::bigint`);
  });

  it("a core-field write queues the sync in the same transaction", async () => {
    const { connectionId, coupleIds, supplierId } = await setup(2);
    // A second, inactive connection of the same supplier gets no job.
    const [inactive] = await hub.ctx.db
      .insert(connections)
      .values({ supplierId, connectorId: CONNECTOR, status: "needs_reconnect" })
      .returning();

    expect(await syncJobs(connectionId)).toHaveLength(0);
    const { event } = await updateCoreFields(hub.ctx.db, systemPrincipal("test", "staff"), {
      coupleId: coupleIds[0]!,
      patch: { weddingDate: "2027-10-02" },
      expectedVersion: "current",
    });
    expect(event?.type).toBe("core_fields.updated");
    const jobs = await syncJobs(connectionId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.key).toBe(calendarSyncJobKey(connectionId));
    expect(await syncJobs(inactive!.id)).toHaveLength(0);

    // A burst coalesces into the one pending job.
    await updateCoreFields(hub.ctx.db, systemPrincipal("test", "staff"), {
      coupleId: coupleIds[1]!,
      patch: { weddingDate: "2027-10-03" },
      expectedVersion: "current",
    });
    expect(await syncJobs(connectionId)).toHaveLength(1);

    // Leave nothing for other files' workers to pick up.
    await hub.ctx.db.execute(
      sql`delete from graphile_worker._private_jobs where key = ${calendarSyncJobKey(connectionId)} and locked_at is null`,
    );
  });
});
