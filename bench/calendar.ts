// npm run bench:calendar — BENCH_WEDDINGS (1,000) weddings across 20 vendors,
// each with a Google Calendar connection, pushed to the Google Calendar
// simulator through the real job path (sync_calendar jobs run by this
// process's graphile-worker, googleapis SDK over HTTP); then 100 wedding
// dates change through updateCoreFields (which queues the syncs in its own
// transaction) and the hub syncs again. Counts duplicates at the simulator.
// Floor in the same run: the simulator's own rate for the same inserts sent
// by a bare HTTP loop (fetch, same concurrency as the workers, no hub).
// The LAST line is one JSON object.
import { sql } from "drizzle-orm";
import { coreFields } from "../db/schema";
import { eq } from "drizzle-orm";
import { updateCoreFields } from "../app/core-fields/write.server";
import { systemPrincipal } from "../app/core-fields/principal";
import { enqueueCalendarSync } from "../app/calendar/consumers.server";
import { startSimulator } from "../simulators/harness";
import { createGoogleCalendarSimulator } from "../simulators/google-calendar/index";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";
import { makeBenchWorld } from "./lib/calendar-world";

const WEDDINGS = envNumber("BENCH_WEDDINGS", 1000, { min: 20, max: 100_000, integer: true });
const VENDORS = 20;
const CHANGED = Math.min(100, WEDDINGS);
const CONCURRENCY = envNumber("BENCH_CONCURRENCY", 4, { min: 1, max: 32, integer: true });
const TOKEN = "bench-calendar-token";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function main() {
  const cleanup = new Cleanup();
  try {
    const database = await createBenchDatabase({ prefix: "hub_bench_calendar", log });
    cleanup.add("bench database", () => database.drop());
    const def = createGoogleCalendarSimulator({ authorize: (t) => t === TOKEN });
    const sim = await startSimulator(def);
    cleanup.add("Google Calendar simulator", () => sim.close());
    const hub = await startBenchHub(database.url, {
      role: "all",
      config: { workerConcurrency: CONCURRENCY, providerApiRoots: { "google-calendar": `${sim.url}/` } },
    });
    cleanup.add("hub", () => hub.stop());
    const db = hub.ctx.db;

    const world = await makeBenchWorld(db, hub.ctx.vault, { weddings: WEDDINGS, vendors: VENDORS, token: TOKEN });
    console.log(`calendar bench: ${WEDDINGS} weddings, ${VENDORS} vendors, worker concurrency ${CONCURRENCY}, ${database.where}`);
    const inserts = () => Object.values(def.control.allCounters()).reduce((n, c) => n + c.inserts, 0);
    const updates = () => Object.values(def.control.allCounters()).reduce((n, c) => n + c.updates, 0);

    // Round 1: every vendor's calendar gets its weddings.
    const t0 = performance.now();
    for (const c of world.connectionIds) await enqueueCalendarSync(db, c, { delayMs: 0, pull: false });
    await until("the first push", async () => inserts() >= WEDDINGS && (await pendingSyncs(db)) === 0);
    const firstSeconds = (performance.now() - t0) / 1000;
    log(`  first push: ${inserts()} inserts in ${firstSeconds.toFixed(2)} s`);

    // Round 2: 100 wedding dates change; the writes queue the syncs themselves.
    const t1 = performance.now();
    for (const coupleId of world.coupleIds.slice(0, CHANGED)) {
      const [cf] = await db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
      await updateCoreFields(db, systemPrincipal("bench", "couple"), {
        coupleId,
        patch: { weddingDate: "2028-01-15" },
        expectedVersion: cf!.version,
      });
    }
    await until("the date changes", async () => updates() >= CHANGED && (await pendingSyncs(db)) === 0);
    const secondSeconds = (performance.now() - t1) / 1000;
    log(`  date changes: ${updates()} updates in ${secondSeconds.toFixed(2)} s (includes the 2 s coalescing delay)`);

    // Exactly one event per wedding at Google, carrying the latest date.
    const byKey = new Map<string, number>();
    for (const e of def.control.events("primary")) {
      const key = (e.extendedProperties as { private?: { hubKey?: string } } | undefined)?.private?.hubKey;
      if (key) byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    const duplicates = [...byKey.values()].reduce((n, c) => n + (c - 1), 0);
    if (byKey.size !== WEDDINGS) throw new Error(`expected ${WEDDINGS} events at Google, found ${byKey.size}`);
    const events = inserts() + updates();
    const eventsPerS = WEDDINGS / firstSeconds;

    // Floor: the same inserts straight at the simulator, no hub, same concurrency.
    const floorRate = await bareInsertRate(sim.url, WEDDINGS, CONCURRENCY);
    console.log(
      `  hub push: ${Math.round(eventsPerS)} events/s (first round), ${events} provider writes in all, ${duplicates} duplicates; bare HTTP loop: ${Math.round(floorRate)} events/s`,
    );
    console.log(
      JSON.stringify({
        bench: "calendar",
        weddings: WEDDINGS,
        events_per_s: Math.round(eventsPerS),
        duplicates,
        floor_events_per_s: Math.round(floorRate),
        changed_dates: CHANGED,
        resync_seconds: Math.round(secondSeconds * 100) / 100,
      }),
    );
  } finally {
    const failures = await cleanup.run();
    for (const f of failures) log(`cleanup: ${f}`);
  }
}

async function pendingSyncs(db: Parameters<typeof makeBenchWorld>[0]): Promise<number> {
  const res = await db.execute<{ n: number }>(
    sql`select count(*)::int n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'sync_calendar'`,
  );
  return res.rows[0]!.n;
}

/** events.insert bodies like the hub's, POSTed by `concurrency` loops into a fresh calendar of the simulator. */
async function bareInsertRate(simUrl: string, n: number, concurrency: number): Promise<number> {
  const url = `${simUrl}/calendar/v3/calendars/primary/events`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const res = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            id: `floor${String(i).padStart(10, "0")}`,
            summary: `Wedding ${i}`,
            start: { dateTime: "2027-06-12T14:00:00+01:00", timeZone: "Europe/London" },
            end: { dateTime: "2027-06-12T18:30:00+01:00", timeZone: "Europe/London" },
          }),
        });
        if (res.status !== 200) throw new Error(`bare insert answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
