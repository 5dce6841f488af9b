// npm run bench:import — BENCH_CLIENTS (10,000) Tave clients from the Tave
// simulator (its rate limit and the hub's raised for the bench) imported end to
// end through the real job path: startImport → graphile-worker `import_clients`
// job in this process (role "all") → pages of 100 fetched over HTTP, mapped,
// validated and upserted into a fresh PostgreSQL database. Timed from
// startImport until the run is succeeded in the database.
// Baseline in the same run: the same records through the mapping alone
// (map + validate + hash, no HTTP, no database). The LAST line is one JSON object.
import { eq, sql } from "drizzle-orm";
import { connections, suppliers, supplierCouples, syncRuns } from "../db/schema";
import { compileMapping } from "../app/mapping/engine";
import { loadImportMapping, prepareRecord, startImport } from "../app/import/engine.server";
import type { ImportSource } from "../app/import/source";
import { startSimulator } from "../simulators/harness";
import { createTaveSimulator } from "../simulators/tave/index";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";

const CLIENTS = envNumber("BENCH_CLIENTS", 10_000, { min: 1, max: 1_000_000, integer: true });
const PAGE_SIZE = envNumber("BENCH_PAGE_SIZE", 100, { min: 1, max: 100, integer: true });
const API_KEY = "bench-tave-key";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const cleanup = new Cleanup();
  try {
    const database = await createBenchDatabase({ prefix: "hub_bench_import", log });
    cleanup.add("bench database", () => database.drop());
    const def = createTaveSimulator({ rateLimit: { requests: 1_000_000, windowSeconds: 60 } });
    def.control.addAccount({ apiKey: API_KEY, count: CLIENTS, seed: 42 });
    const sim = await startSimulator(def);
    cleanup.add("Tave simulator", () => sim.close());
    const hub = await startBenchHub(database.url, { role: "all" });
    cleanup.add("hub", () => hub.stop());
    const db = hub.ctx.db;

    // The hub's limiter follows the connector settings: raised like the simulator's.
    await db.execute(
      sql`insert into connectors (id, settings)
          values ('tave', ${JSON.stringify({ apiBaseUrl: sim.url, rateLimit: { requests: 1_000_000, perSeconds: 60 } })}::jsonb)
          on conflict (id) do update set settings = excluded.settings`,
    );
    const [supplier] = await db.insert(suppliers).values({ name: "Bench Studio", kind: "photographer" }).returning();
    const [conn] = await db
      .insert(connections)
      .values({
        supplierId: supplier!.id,
        connectorId: "tave",
        accountId: "bench-account",
        credentialsEnc: hub.ctx.vault.encryptJson({ apiKey: API_KEY }),
      })
      .returning();

    console.log(`import bench: ${CLIENTS} Tave clients, pages of ${PAGE_SIZE}, ${database.where}`);
    const t0 = performance.now();
    const started = await startImport(hub.ctx, { connectionId: conn!.id, pageSize: PAGE_SIZE });
    if (started.dryRun) throw new Error("unexpected dry run");
    let lastReport = 0;
    for (;;) {
      const [run] = await db.select().from(syncRuns).where(eq(syncRuns.id, started.runId));
      if (run!.status === "failed") throw new Error(`import failed: ${JSON.stringify(run!.errors.slice(-3))}`);
      if (run!.status === "succeeded") break;
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        log(`  … ${run!.done}/${run!.total ?? "?"}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const [run] = await db.select().from(syncRuns).where(eq(syncRuns.id, started.runId));
    const [linked] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(supplierCouples)
      .where(eq(supplierCouples.supplierId, supplier!.id));
    if (run!.counts.new! + run!.counts.failed! !== CLIENTS || linked!.n !== run!.counts.new)
      throw new Error(`counts do not add up: ${JSON.stringify(run!.counts)}, ${linked!.n} couples linked`);
    const rate = CLIENTS / seconds;
    console.log(
      `  end to end: ${CLIENTS} clients in ${seconds.toFixed(2)} s = ${Math.round(rate)} clients/s  counts ${JSON.stringify(run!.counts)}, ${sim.stats().requests} API requests`,
    );

    // Baseline: the same records through the mapping only (what the import adds on top is HTTP + database).
    const records = def.control.clients(API_KEY);
    const mapping = await loadImportMapping(db, "tave-client-to-wedsync-client");
    const compiled = compileMapping(mapping.expression);
    const source: Pick<ImportSource, "externalId"> = {
      externalId: (r) => (typeof r === "object" && r !== null && "id" in r ? String(r.id) : null),
    };
    for (const r of records.slice(0, 1000)) await prepareRecord(compiled, source as ImportSource, r);
    const m0 = performance.now();
    let invalid = 0;
    for (const r of records) if (!(await prepareRecord(compiled, source as ImportSource, r)).ok) invalid++;
    const mappingSeconds = (performance.now() - m0) / 1000;
    const mappingRate = records.length / mappingSeconds;
    console.log(
      `  mapping only: ${records.length} clients in ${mappingSeconds.toFixed(2)} s = ${Math.round(mappingRate)} clients/s (${invalid} invalid)`,
    );
    console.log(
      JSON.stringify({
        bench: "import",
        clients: CLIENTS,
        seconds: Math.round(seconds * 100) / 100,
        clients_per_s: Math.round(rate),
        mapping_only_clients_per_s: Math.round(mappingRate),
      }),
    );
  } finally {
    const failures = await cleanup.run();
    for (const f of failures) log(`cleanup: ${f}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
