// Tave clients into WedSync through the real job path: a real Tave simulator on
// 127.0.0.1, real graphile-worker processes (`server.ts --role=worker`), the
// test PostgreSQL. Exact counts on first and repeated runs, per-record
// failures, 429 + Retry-After, changes at the source emitting core-field events,
// a worker SIGKILLed mid-import, and a second concurrent start refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { connections, coreFields, events, importedRecords, rateLimitBuckets, supplierCouples, syncRuns } from "../../db/schema";
import { IMPORT_PROGRESS_CHANNEL, importJobKey, resumeImport, startImport } from "../../app/import/engine.server";
import { ConflictError } from "../../app/errors";
import { makeSupplier, startTestHub, testDatabaseUrl, unique } from "../helpers/hub";
import { spawnHub, waitFor, type HubProcess } from "../helpers/processes";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createTaveSimulator, type TaveAccountInput, type TaveSimulatorDefinition } from "../../simulators/tave/index";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: TaveSimulatorDefinition;
let sim: RunningSimulator;
let worker: HubProcess;
const workers: HubProcess[] = [];

function startWorker(): HubProcess {
  const key = hub.ctx.config.encryptionKeys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
  const w = spawnHub(["--role=worker"], { DATABASE_URL: testDatabaseUrl(), HUB_ENCRYPTION_KEYS: key, WORKER_CONCURRENCY: "2" });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  hub = await startTestHub();
  def = createTaveSimulator();
  sim = await startSimulator(def);
  // Worker processes find the Tave API in the connector's settings (how they are pointed at the simulator).
  await hub.ctx.db.execute(
    sql`insert into connectors (id, settings) values ('tave', ${JSON.stringify({ apiBaseUrl: sim.url })}::jsonb)
        on conflict (id) do update set settings = connectors.settings || excluded.settings`,
  );
  worker = startWorker();
  await waitFor(async () => worker.output().includes("workers started"), "the worker", 60_000);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  await hub?.ctx.db.execute(sql`update connectors set settings = settings - 'apiBaseUrl' where id = 'tave'`);
  await sim?.close();
  await hub?.stop();
});

/** A supplier with a Tave connection to a fresh simulator account. */
async function setup(account: Omit<TaveAccountInput, "apiKey">) {
  const apiKey = unique("tave-key");
  def.control.addAccount({ apiKey, ...account });
  const supplier = await makeSupplier(hub.ctx.db);
  const [conn] = await hub.ctx.db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "tave",
      accountId: unique("acct"),
      accountLabel: "Tave studio",
      credentialsEnc: hub.ctx.vault.encryptJson({ apiKey }),
    })
    .returning();
  return { apiKey, supplierId: supplier.id, connectionId: conn!.id, accountId: conn!.accountId! };
}

async function importAndWait(connectionId: string, opts: { pageSize?: number } = {}, timeoutMs = 60_000) {
  const started = await startImport(hub.ctx, { connectionId, pageSize: opts.pageSize });
  if (started.dryRun) throw new Error("not a dry run");
  return waitForRun(started.runId, timeoutMs);
}

async function waitForRun(runId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const [run] = await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.id, runId));
      return run && (run.status === "succeeded" || run.status === "failed") ? run : null;
    },
    `import run ${runId}`,
    timeoutMs,
  );
}

async function supplierCoupleCount(supplierId: string): Promise<number> {
  const [r] = await hub.ctx.db
    .select({ n: sql<number>`count(*)::int` })
    .from(supplierCouples)
    .where(eq(supplierCouples.supplierId, supplierId));
  return r!.n;
}

async function importedFor(supplierId: string) {
  return hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.supplierId, supplierId));
}

describe("Tave import", () => {
  it("yields between pages while a wedding-day job waits, then finishes with exact counts", async () => {
    const { connectionId } = await setup({ count: 60, seed: 21 });
    // A wedding's critical job that cannot run yet (its queue is held), so it stays pending. One transaction:
    // a worker must never see the job before its queue is held.
    const queue = unique("held-critical");
    await hub.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`select graphile_worker.add_job('diagnostics_ping', json_build_object('key', ${queue}::text),
        queue_name => ${queue}::text, priority => -100)`);
      await tx.execute(sql`update graphile_worker._private_job_queues set locked_at = now(), locked_by = 'test-holder'
        where queue_name = ${queue}`);
    });
    const started = await startImport(hub.ctx, { connectionId, pageSize: 20 });
    if (started.dryRun) throw new Error("not a dry run");
    const runNow = async () => (await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.id, started.runId)))[0]!;
    await waitFor(async () => (await runNow()).done === 20, "the first page", 30_000);
    // It stopped after one page and re-queued itself for later instead of going on.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await runNow()).done).toBe(20);
    expect((await runNow()).status).toBe("running");

    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where payload->>'key' = ${queue}`);
    const run = await waitForRun(started.runId, 60_000);
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 60, updated: 0, unchanged: 0, failed: 0 });
    expect(run.cursor).toEqual({ next: null, pages: 3 });
  });

  it("imports 250 clients over several pages in one run; a second run finds 0 new, 250 unchanged", async () => {
    const { supplierId, connectionId, apiKey } = await setup({ count: 250, seed: 11 });
    const first = await importAndWait(connectionId, { pageSize: 50 });
    expect(first.status).toBe("succeeded");
    expect(first.counts).toEqual({ new: 250, updated: 0, unchanged: 0, failed: 0 });
    expect(first.done).toBe(250);
    expect(first.total).toBe(250);
    expect(first.cursor).toEqual({ next: null, pages: 5 });
    expect(first.errors).toEqual([]);
    expect(await supplierCoupleCount(supplierId)).toBe(250);
    const imported = await importedFor(supplierId);
    expect(imported).toHaveLength(250);
    expect(new Set(imported.map((r) => r.externalId))).toEqual(new Set(def.control.clients(apiKey).map((c) => c.id)));

    // The couple holds exactly what the mapping produced (core fields only).
    const client = def.control.clients(apiKey)[0]!;
    const row = imported.find((r) => r.externalId === client.id)!;
    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, row.coupleId));
    const contact = (client.contacts as { contact: { firstName: string; lastName: string; email: string } }[])[0]!.contact;
    expect(cf!.fields.partner1Name).toBe(`${contact.firstName} ${contact.lastName}`);
    expect(cf!.fields.partner1Email).toBe(contact.email);
    expect(cf!.version).toBe(1);
    const created = await hub.ctx.db.select().from(events).where(eq(events.coupleId, row.coupleId));
    expect(created.map((e) => [e.type, e.seq, e.source])).toEqual([["core_fields.created", 1, "import"]]);

    const second = await importAndWait(connectionId, { pageSize: 50 });
    expect(second.counts).toEqual({ new: 0, updated: 0, unchanged: 250, failed: 0 });
    expect(second.done).toBe(250);
    expect(await supplierCoupleCount(supplierId)).toBe(250);
    expect(await hub.ctx.db.select().from(events).where(eq(events.coupleId, row.coupleId))).toHaveLength(1);
  });

  it("a client with a malformed email or date fails alone, with its reason; the others import", async () => {
    const { supplierId, connectionId, apiKey } = await setup({ count: 30, seed: 12, malformedEmail: [3], malformedDate: [7] });
    const run = await importAndWait(connectionId, { pageSize: 10 });
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 28, updated: 0, unchanged: 0, failed: 2 });
    expect(run.done).toBe(30);
    const ids = def.control.clients(apiKey).map((c) => c.id);
    expect(run.errors).toEqual([
      {
        externalId: ids[3],
        reason: "partner1Email must be an email address like name@example.com",
        fields: { partner1Email: ["must be an email address like name@example.com"] },
      },
      {
        externalId: ids[7],
        reason: "weddingDate is not a real calendar date",
        fields: { weddingDate: ["is not a real calendar date"] },
      },
    ]);
    const imported = new Set((await importedFor(supplierId)).map((r) => r.externalId));
    expect(imported.size).toBe(28);
    expect(imported.has(ids[3]!)).toBe(false);
    expect(imported.has(ids[7]!)).toBe(false);
  });

  it("slows down on 429 with Retry-After and still completes with nothing lost", async () => {
    // The account allows 2 requests per second; the hub's limiter (100/min) lets it run into 429s.
    const { supplierId, connectionId, apiKey, accountId } = await setup({
      count: 120,
      seed: 13,
      rateLimit: { requests: 2, windowSeconds: 1 },
    });
    const started = Date.now();
    const run = await importAndWait(connectionId, { pageSize: 10 }, 90_000);
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 120, updated: 0, unchanged: 0, failed: 0 });
    expect(def.control.stats(apiKey).rateLimited).toBeGreaterThan(0);
    // 12 pages at 2 per second cannot take less than about 5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(await supplierCoupleCount(supplierId)).toBe(120);
    const [bucket] = await hub.ctx.db
      .select()
      .from(rateLimitBuckets)
      .where(eq(rateLimitBuckets.key, `tave:${accountId}`));
    expect(bucket!.blockedUntil).not.toBeNull();
  });

  it("a client changed at the source updates its couple through the core-field write path (events)", async () => {
    const { supplierId, connectionId, apiKey } = await setup({ count: 20, seed: 14 });
    await importAndWait(connectionId);
    const target = def.control.clients(apiKey)[5]!;
    def.control.updateClient(apiKey, target.id, (r) => {
      r.guestCount = 321;
      (r.contacts as { contact: { email: string } }[])[0]!.contact.email = "changed.address@example.com";
    });
    const run = await importAndWait(connectionId);
    expect(run.counts).toEqual({ new: 0, updated: 1, unchanged: 19, failed: 0 });
    const [rec] = await hub.ctx.db
      .select()
      .from(importedRecords)
      .where(and(eq(importedRecords.supplierId, supplierId), eq(importedRecords.externalId, target.id)));
    expect(rec!.lastRunId).toBe(run.id);
    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, rec!.coupleId));
    expect(cf!.version).toBe(2);
    expect(cf!.fields.guestCount).toBe(321);
    expect(cf!.fields.partner1Email).toBe("changed.address@example.com");
    const evs = await hub.ctx.db.select().from(events).where(eq(events.coupleId, rec!.coupleId)).orderBy(events.seq);
    expect(evs.map((e) => [e.type, e.seq, e.version, e.source])).toEqual([
      ["core_fields.created", 1, 1, "import"],
      ["core_fields.updated", 2, 2, "import"],
    ]);
    expect(evs[1]!.changedFields.guestCount!.new).toBe(321);
    expect(evs[1]!.changedFields.partner1Email).toEqual({
      old: (target.contacts as { contact: { email: string } }[])[0]!.contact.email,
      new: "changed.address@example.com",
    });
    expect(Object.keys(evs[1]!.changedFields).sort()).toEqual(["guestCount", "partner1Email"]);
  });

  it("resumes after a worker is killed mid-import: exact counts, no duplicates", async () => {
    const { supplierId, connectionId } = await setup({ count: 250, seed: 15 });
    const progress: { done: number }[] = [];
    const listener = await hub.ctx.database.pool.connect();
    listener.on("notification", (n) => {
      const p = JSON.parse(n.payload ?? "{}") as { supplierId?: string; done: number };
      if (p.supplierId === supplierId) progress.push(p);
    });
    await listener.query(`listen ${IMPORT_PROGRESS_CHANNEL}`);
    try {
      // Slow the provider so that the kill lands between pages.
      sim.setFaults({ latencyMs: 300 });
      const started = await startImport(hub.ctx, { connectionId, pageSize: 25 });
      if (started.dryRun) throw new Error("not a dry run");
      const runId = started.runId;
      const runRow = async () => (await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.id, runId)))[0]!;
      await waitFor(async () => (await runRow()).done >= 75, "the import to get going", 60_000);
      worker.child.kill("SIGKILL");
      await worker.exited;
      const atKill = await runRow();
      expect(atKill.status).toBe("running");
      expect(atKill.done).toBeLessThan(250);
      // The killed worker's job stays locked (graphile-worker frees it only after 4 hours).
      const jobs = await hub.ctx.db.execute<{ id: string; locked_at: Date | null }>(
        sql`select id::text, locked_at from graphile_worker._private_jobs where key = ${importJobKey(runId)}`,
      );
      expect(jobs.rows).toHaveLength(1);
      expect(jobs.rows[0]!.locked_at).not.toBeNull();
      const orphan = jobs.rows[0]!.id;

      sim.setFaults({ latencyMs: 0 });
      worker = startWorker();
      await waitFor(async () => worker.output().includes("workers started"), "the second worker", 60_000);
      // Same key, "replace": the locked job gives up its key and a new one is queued.
      expect(await resumeImport(hub.ctx.db, runId)).toBe(true);
      const run = await waitForRun(runId);
      expect(run.status).toBe("succeeded");
      expect(run.counts).toEqual({ new: 250, updated: 0, unchanged: 0, failed: 0 });
      expect(run.done).toBe(250);
      expect(run.cursor).toEqual({ next: null, pages: 10 });
      expect(await supplierCoupleCount(supplierId)).toBe(250);
      const imported = await importedFor(supplierId);
      expect(imported).toHaveLength(250);
      expect(new Set(imported.map((r) => r.coupleId)).size).toBe(250);
      // Progress was announced page by page, never going back.
      const dones = progress.map((p) => p.done);
      expect(dones.at(-1)).toBe(250);
      expect([...dones].sort((a, b) => a - b)).toEqual(dones);

      await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where id = ${orphan}::bigint`);
    } finally {
      sim.setFaults({ latencyMs: 0 });
      await listener.query(`unlisten ${IMPORT_PROGRESS_CHANNEL}`);
      listener.release();
    }
    // Two worker processes start and one dies mid-run: on a loaded 2-core machine this legitimately takes a while.
  }, 180_000);

  it("refuses a second import of the same account while one is live", async () => {
    const { connectionId } = await setup({ count: 40, seed: 16 });
    const results = await Promise.allSettled([
      startImport(hub.ctx, { connectionId, pageSize: 10 }),
      startImport(hub.ctx, { connectionId, pageSize: 10 }),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(ConflictError);
    const first = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startImport>>>).value;
    if (first.dryRun) throw new Error("not a dry run");
    expect((refused[0] as ConflictError).details).toEqual({ runId: first.runId });
    expect((await waitForRun(first.runId)).counts).toEqual({ new: 40, updated: 0, unchanged: 0, failed: 0 });
    // Once it has finished, a new import may start.
    expect((await importAndWait(connectionId, { pageSize: 10 })).counts).toEqual({
      new: 0,
      updated: 0,
      unchanged: 40,
      failed: 0,
    });
  });

  it("a dry run maps the first records with their errors and writes nothing", async () => {
    const { supplierId, connectionId, apiKey } = await setup({ count: 30, seed: 17, malformedEmail: [1] });
    const result = await startImport(hub.ctx, { connectionId, dryRun: true, limit: 5 });
    if (!result.dryRun) throw new Error("expected a dry run");
    expect(result.total).toBe(30);
    expect(result.records).toHaveLength(5);
    const ids = def.control.clients(apiKey).map((c) => c.id);
    expect(result.records.map((r) => r.externalId)).toEqual(ids.slice(0, 5));
    expect(result.records[0]!.output).toMatchObject({ externalId: ids[0], source: "tave" });
    expect(result.records[1]!.errors?.fields).toEqual({ partner1Email: ["must be an email address like name@example.com"] });
    expect(await supplierCoupleCount(supplierId)).toBe(0);
    expect(await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connectionId))).toHaveLength(0);
  });
});
