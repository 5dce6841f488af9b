// The console's Imports pages over a real hub (web + in-process workers) and a
// real Tave simulator: dry run, start, live progress over Socket.IO, the run
// page, failures as CSV, re-running only the failed records; and the cron side:
// scheduled imports only for eligible connections, the sweep that resumes a run
// whose worker died.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { io as connect, type Socket } from "socket.io-client";
import { auditLog, connections, importedRecords, supplierCouples, syncRuns } from "../../db/schema";
import { importJobKey, startImport } from "../../app/import/engine.server";
import { csvField, failuresCsv } from "../../app/import/console.server";
import { queueScheduledImports, sweepStaleImports } from "../../app/import/schedule.server";
import { enqueueJob } from "../../app/jobs/enqueue.server";
import { IMPORT_PROGRESS_EVENT, importProgressSchema, rateAndEta, type ImportProgress } from "../../app/import/progress";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, startTestHub, unique } from "../helpers/hub";
import { waitFor } from "../helpers/processes";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createTaveSimulator, type TaveAccountInput, type TaveSimulatorDefinition } from "../../simulators/tave/index";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: TaveSimulatorDefinition;
let sim: RunningSimulator;
let staff: FormClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  def = createTaveSimulator();
  sim = await startSimulator(def);
  // In-process workers reach the simulator through PROVIDER_API_ROOTS (no shared connector settings).
  hub = await startTestHub({ role: "all", config: { providerApiRoots: { tave: sim.url } } });
  const { email, password } = await makeUser(hub.ctx.db, "integration");
  staff = new FormClient(hub.url);
  const res = await staff.signIn(email, password);
  expect(res.status).toBe(302);
});
afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  await hub?.stop();
  await sim?.close();
});

async function setup(account: Omit<TaveAccountInput, "apiKey">, status: "active" | "needs_reconnect" = "active") {
  const apiKey = unique("tave-key");
  def.control.addAccount({ apiKey, ...account });
  const supplier = await makeSupplier(hub.ctx.db, unique("Studio"));
  const [conn] = await hub.ctx.db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "tave",
      status,
      accountId: unique("acct"),
      accountLabel: "Tave studio",
      credentialsEnc: hub.ctx.vault.encryptJson({ apiKey }),
    })
    .returning();
  return { apiKey, supplierId: supplier.id, supplierName: supplier.name, connectionId: conn!.id };
}

const runRow = async (runId: string) => (await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.id, runId)))[0]!;

async function waitForRun(runId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const run = await runRow(runId);
      return run.status === "succeeded" || run.status === "failed" ? run : null;
    },
    `import run ${runId}`,
    timeoutMs,
  );
}

async function coupleCount(supplierId: string): Promise<number> {
  const [r] = await hub.ctx.db
    .select({ n: sql<number>`count(*)::int` })
    .from(supplierCouples)
    .where(eq(supplierCouples.supplierId, supplierId));
  return r!.n;
}

async function auditActions(entityId: string): Promise<string[]> {
  const rows = await hub.ctx.db.select().from(auditLog).where(eq(auditLog.entityId, entityId)).orderBy(auditLog.id);
  return rows.map((r) => r.action);
}

function staffSocket(): Promise<Socket> {
  const socket = connect(hub.url, {
    transports: ["websocket"],
    reconnection: false,
    extraHeaders: { cookie: `hub_session=${staff.cookie("hub_session")}` },
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** Start an import through the console form; answers the new run's id. */
async function startFromConsole(connectionId: string): Promise<string> {
  await staff.get("/console/imports");
  const res = await staff.post("/console/imports?index", { intent: "start", connectionId });
  expect(res.status).toBe(302);
  const m = /^\/console\/imports\/([0-9a-f-]{36})$/.exec(res.location ?? "");
  expect(m, `redirected to ${res.location}`).not.toBeNull();
  return m![1]!;
}

describe("console imports", () => {
  it("lists the CRM connections of every registered import source", async () => {
    const { connectionId, supplierName } = await setup({ count: 3, seed: 31 });
    const page = await staff.get("/console/imports");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<h1>Imports</h1>");
    expect(page.text).toContain(`value="${connectionId}"`);
    expect(page.text).toContain(supplierName);
    expect(page.text).toContain('href="/console/imports"');
  });

  it("a dry run renders the first records as mapped, with per-record errors, and writes nothing", async () => {
    const { connectionId, supplierId, apiKey } = await setup({ count: 30, seed: 32, malformedEmail: [2] });
    await staff.get("/console/imports");
    const res = await staff.post("/console/imports?index", { intent: "dry-run", connectionId });
    expect(res.status).toBe(200);
    const ids = def.control.clients(apiKey).map((c) => c.id);
    // 20 records, mapped fields as columns, the malformed one with its reason.
    const rows = [...res.text.matchAll(/data-dry-run-record="([^"]*)"/g)].map((m) => m[1]);
    expect(rows).toEqual(ids.slice(0, 20));
    expect(res.text).toContain("Partner1 name");
    expect(res.text).toContain("partner1Email must be an email address like name@example.com");
    expect(res.text).toContain("30 records at the source.");
    expect(res.text).toMatch(/1 of these would fail\. Nothing was written\./);
    const first = def.control.clients(apiKey)[0]!;
    const contact = (first.contacts as { contact: { firstName: string; lastName: string } }[])[0]!.contact;
    expect(res.text).toContain(`${contact.firstName} ${contact.lastName}`);
    // Nothing written: no couples, no run, no imported records; the dry run itself is audited.
    expect(await coupleCount(supplierId)).toBe(0);
    expect(await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connectionId))).toHaveLength(0);
    expect(await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.supplierId, supplierId))).toHaveLength(0);
    expect(await auditActions(connectionId)).toEqual(["import.dry_run"]);
  });

  it("refuses a form without its CSRF token", async () => {
    const { connectionId } = await setup({ count: 2, seed: 33 });
    const res = await staff.post("/console/imports?index", { intent: "start", connectionId }, { withCsrf: false });
    expect(res.status).toBe(403);
    expect(await hub.ctx.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connectionId))).toHaveLength(0);
  });

  it("start → live progress over Socket.IO to done == total → the run page; a second start is refused clearly", async () => {
    const { connectionId, supplierId } = await setup({ count: 120, seed: 34, malformedEmail: [5], malformedDate: [70] });
    const socket = await staffSocket();
    const progress: ImportProgress[] = [];
    socket.on(IMPORT_PROGRESS_EVENT, (raw: unknown) => progress.push(importProgressSchema.parse(raw)));
    // Slow pages, so the run is still live when the second start comes.
    sim.setFaults({ latencyMs: 150 });
    let runId: string;
    try {
      await staff.get("/console/imports");
      const started = await staff.post("/console/imports?index", { intent: "start", connectionId });
      expect(started.status).toBe(302);
      runId = /([0-9a-f-]{36})$/.exec(started.location ?? "")![1]!;

      const again = await staff.post("/console/imports?index", { intent: "start", connectionId });
      expect(again.status).toBe(409);
      expect(again.text).toContain("An import of this account is already");
      expect(again.text).toContain(`href="/console/imports/${runId}"`);
    } finally {
      sim.setFaults({ latencyMs: 0 });
    }

    const run = await waitForRun(runId);
    expect(run.status).toBe("succeeded");
    const mine = await waitFor(
      async () => {
        const m = progress.filter((p) => p.runId === runId);
        return m.at(-1)?.done === 120 ? m : null;
      },
      "the last progress message",
      10_000,
    );
    // Page by page (100 a page), never going back, ending at done == total with the counts.
    expect(mine.map((p) => p.done)).toEqual([100, 120]);
    expect(mine.every((p) => p.total === 120 && p.supplierId === supplierId)).toBe(true);
    expect(mine.at(-1)).toMatchObject({ status: "succeeded", counts: { new: 118, updated: 0, unchanged: 0, failed: 2 } });

    const page = await staff.get(`/console/imports/${runId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-count="new">118<');
    expect(page.text).toContain('data-count="failed">2<');
    expect(page.text).toContain("tave-client-to-wedsync-client v");
    expect(page.text).toMatch(/data-duration="?[^>]*>\d+ (s|min)/);
    expect(page.text).toContain("Download failures (CSV)");
    expect(page.text).toContain("Re-run 2 failed records");
    expect(page.text).toContain("weddingDate is not a real calendar date");
    // One audited start; the refused one left nothing behind.
    expect(await auditActions(connectionId)).toEqual(["import.start"]);
  });

  it("downloads failures as RFC 4180 CSV with correct quoting", async () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(
      failuresCsv([
        { externalId: "a,1", reason: 'bad "email"', fields: { partner1Email: ["must be an email", "is required"] } },
        { externalId: null, reason: "Tave refused the API key", fields: null },
      ]),
    ).toBe(
      'external_id,reason,fields\r\n"a,1","bad ""email""","partner1Email: must be an email, is required"\r\n,Tave refused the API key,\r\n',
    );

    const { connectionId, apiKey } = await setup({ count: 12, seed: 35, malformedEmail: [1], malformedDate: [4] });
    const runId = await startFromConsole(connectionId);
    await waitForRun(runId);
    const ids = def.control.clients(apiKey).map((c) => c.id);
    const res = await fetch(`${hub.url}/console/imports/${runId}/failures.csv`, {
      headers: { cookie: `hub_session=${staff.cookie("hub_session")}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="import-${runId}-failures.csv"`);
    expect(await res.text()).toBe(
      "external_id,reason,fields\r\n" +
        `${ids[1]},partner1Email must be an email address like name@example.com,partner1Email: must be an email address like name@example.com\r\n` +
        `${ids[4]},weddingDate is not a real calendar date,weddingDate: is not a real calendar date\r\n`,
    );
    expect(await auditActions(runId)).toContain("import.failures_download");

    // Signed out: no CSV.
    const anon = await fetch(`${hub.url}/console/imports/${runId}/failures.csv`, { redirect: "manual" });
    expect(anon.status).toBe(302);
  });

  it("re-running the failed records touches only the failed ids", async () => {
    const { connectionId, supplierId, apiKey } = await setup({ count: 25, seed: 36, malformedEmail: [3], malformedDate: [9] });
    const firstRun = await startFromConsole(connectionId);
    expect((await waitForRun(firstRun)).counts).toEqual({ new: 23, updated: 0, unchanged: 0, failed: 2 });
    const ids = def.control.clients(apiKey).map((c) => c.id);
    const before = await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.supplierId, supplierId));

    // The vendor fixes one record at the source; and another (not failed) record changes too.
    def.control.updateClient(apiKey, ids[3]!, (r) => {
      (r.contacts as { contact: { email: string } }[])[0]!.contact.email = "fixed.address@example.com";
    });
    def.control.updateClient(apiKey, ids[0]!, (r) => {
      r.guestCount = 999;
    });

    await staff.get(`/console/imports/${firstRun}`);
    const res = await staff.post(`/console/imports/${firstRun}`, { intent: "rerun-failed" });
    expect(res.status).toBe(302);
    const rerun = /([0-9a-f-]{36})$/.exec(res.location ?? "")![1]!;
    expect(rerun).not.toBe(firstRun);
    const run = await waitForRun(rerun);
    expect(run.options).toMatchObject({ onlyExternalIds: [ids[3], ids[9]] });
    expect(run.counts).toEqual({ new: 1, updated: 0, unchanged: 0, failed: 1 });
    expect(run.total).toBe(2);
    expect(run.done).toBe(2);

    // Only ids[3] is new; ids[0] (changed at the source, but not a failed record) was not touched.
    const after = await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.supplierId, supplierId));
    expect(after).toHaveLength(24);
    const byId = new Map(after.map((r) => [r.externalId, r]));
    expect(byId.get(ids[3]!)!.lastRunId).toBe(rerun);
    expect(byId.get(ids[0]!)).toEqual(before.find((r) => r.externalId === ids[0]));
    expect(after.filter((r) => r.lastRunId === rerun).map((r) => r.externalId)).toEqual([ids[3]]);
    expect(await auditActions(firstRun)).toContain("import.rerun_failed");

    // The re-run's own failure (ids[9], still malformed) can be re-run in turn.
    await staff.get(`/console/imports/${rerun}`);
    const again = await staff.post(`/console/imports/${rerun}`, { intent: "rerun-failed" });
    expect(again.status).toBe(302);
    const third = /([0-9a-f-]{36})$/.exec(again.location ?? "")![1]!;
    expect((await waitForRun(third)).counts).toEqual({ new: 0, updated: 0, unchanged: 0, failed: 1 });
  });

  it("an unknown run is a 404 page", async () => {
    expect((await staff.get(`/console/imports/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await staff.get("/console/imports/not-a-uuid")).status).toBe(404);
  });
});

describe("scheduled imports", () => {
  it("queue imports only for active connections that imported successfully before, skipping live ones", async () => {
    const imported = await setup({ count: 5, seed: 41 });
    const never = await setup({ count: 5, seed: 42 });
    const reconnect = await setup({ count: 5, seed: 43 });
    const live = await setup({ count: 5, seed: 44 });
    for (const c of [imported, reconnect, live]) {
      const r = await startImport(hub.ctx, { connectionId: c.connectionId });
      if (r.dryRun) throw new Error("not a dry run");
      await waitForRun(r.runId);
    }
    await hub.ctx.db.update(connections).set({ status: "needs_reconnect" }).where(eq(connections.id, reconnect.connectionId));
    // A live run of its own: a queued run whose job waits an hour.
    const [liveRun] = await hub.ctx.db
      .insert(syncRuns)
      .values({ connectionId: live.connectionId, supplierId: live.supplierId, kind: "import", status: "queued" })
      .returning();

    const scope = [imported, never, reconnect, live].map((c) => c.connectionId);
    const outcome = await queueScheduledImports(hub.ctx, { connectionIds: scope });
    expect(outcome.started.map((s) => s.connectionId)).toEqual([imported.connectionId]);
    expect(outcome.skipped).toEqual([
      { connectionId: live.connectionId, reason: expect.stringContaining("already queued") as string },
    ]);
    const run = await waitForRun(outcome.started[0]!.runId);
    expect(run.counts).toEqual({ new: 0, updated: 0, unchanged: 5, failed: 0 });
    const [audit] = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, imported.connectionId), eq(auditLog.action, "import.start")));
    expect(audit!.actorLabel).toBe("import scheduler");
    await hub.ctx.db.update(syncRuns).set({ status: "cancelled" }).where(eq(syncRuns.id, liveRun!.id));
  });

  it("the sweep resumes a run whose worker died (job locked long ago) or whose job is gone, not a live one", async () => {
    const dead = await setup({ count: 30, seed: 51 });
    const gone = await setup({ count: 10, seed: 52 });
    const busy = await setup({ count: 10, seed: 53 });

    /** A run as a worker left it: running, one page committed, its job locked `lockedAgo` ago by a worker. */
    const leftRunning = async (c: Awaited<ReturnType<typeof setup>>, lockedAgo: string | null) => {
      const [run] = await hub.ctx.db
        .insert(syncRuns)
        .values({
          connectionId: c.connectionId,
          supplierId: c.supplierId,
          kind: "import",
          status: "running",
          options: { pageSize: 10 },
          counts: { new: 0, updated: 0, unchanged: 0, failed: 0 },
          startedAt: new Date(),
        })
        .returning();
      if (lockedAgo !== null) {
        // Queued far in the future (no worker takes it), then marked as taken by a worker that is gone.
        await enqueueJob(
          hub.ctx.db,
          "import_clients",
          { runId: run!.id },
          {
            jobKey: importJobKey(run!.id),
            runAt: new Date(Date.now() + 86_400_000),
          },
        );
        await hub.ctx.db.execute(sql`
          update graphile_worker._private_jobs
             set locked_at = now() - ${lockedAgo}::interval, locked_by = 'worker-killed', run_at = now() - ${lockedAgo}::interval
           where key = ${importJobKey(run!.id)}`);
      }
      return run!.id;
    };
    const deadRun = await leftRunning(dead, "2 hours");
    const goneRun = await leftRunning(gone, null);
    const busyRun = await leftRunning(busy, "1 minute");

    const { resumed } = await sweepStaleImports(hub.ctx);
    expect(resumed).toEqual(expect.arrayContaining([deadRun, goneRun]));
    expect(resumed).not.toContain(busyRun);

    expect((await waitForRun(deadRun)).counts).toEqual({ new: 30, updated: 0, unchanged: 0, failed: 0 });
    expect((await waitForRun(goneRun)).counts).toEqual({ new: 10, updated: 0, unchanged: 0, failed: 0 });
    expect(await coupleCount(dead.supplierId)).toBe(30);
    expect((await runRow(busyRun)).status).toBe("running");
    expect(await auditActions(deadRun)).toEqual(["import.resume"]);

    // Tidy up: the orphaned locked jobs, and the "busy" run (its lock is ours, not a worker's).
    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs where locked_by = 'worker-killed'`);
    await hub.ctx.db.update(syncRuns).set({ status: "cancelled" }).where(eq(syncRuns.id, busyRun));
  });
});

describe("progress arithmetic", () => {
  it("computes rate and ETA from the samples seen", () => {
    expect(rateAndEta(null, null, 100)).toEqual({ perSecond: null, etaSeconds: null });
    expect(rateAndEta({ at: 0, done: 0 }, { at: 2000, done: 50 }, 150)).toEqual({ perSecond: 25, etaSeconds: 4 });
    expect(rateAndEta({ at: 0, done: 0 }, { at: 2000, done: 50 }, null)).toEqual({ perSecond: 25, etaSeconds: null });
  });
});
