// npm run bench:webhooks — both directions of issue 9.
// Inbound: BENCH_SENDERS (50) concurrent senders POST Standard-Webhooks-signed
// deliveries to /webhooks/in/:endpointId for BENCH_SECONDS (20): acknowledged/s
// and p50/p99 acknowledgement latency. Floor in the same run: the same number
// of concurrent loops doing single-row INSERTs of the raw body over `pg`.
// Outbound: BENCH_EVENTS (10,000) core-field changes over 100 couples (each with
// its own vendor, so writers do not queue on one supplier's feed row), fanned
// out to 10 staff endpoints on 10 local receivers (webhook-receiver simulators):
// deliveries/s from the first write to the last acknowledgement, duplicates
// (a webhook-id acknowledged twice) and per-couple order violations.
// The LAST line is one JSON object.
import crypto from "node:crypto";
import pg from "pg";
import { sql } from "drizzle-orm";
import { webhookEndpoints } from "../db/schema";
import { updateCoreFields } from "../app/core-fields/write.server";
import { systemPrincipal } from "../app/core-fields/principal";
import { systemActor } from "../app/audit/audit.server";
import { createEndpoint } from "../app/webhooks/outbound/endpoints.server";
import { generateSecret, signedHeaders } from "../app/webhooks/outbound/signing";
import { startSimulator, type RunningSimulator } from "../simulators/harness";
import { createWebhookReceiverSimulator, type WebhookReceiverDefinition } from "../simulators/webhook-receiver/index";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";
import { round2, summarize } from "./lib/stats";

const SENDERS = envNumber("BENCH_SENDERS", 50, { min: 1, max: 500, integer: true });
const SECONDS = envNumber("BENCH_SECONDS", 20, { min: 1, max: 600 });
const EVENTS = envNumber("BENCH_EVENTS", 10_000, { min: 100, max: 1_000_000, integer: true });
const RECEIVERS = 10;
const COUPLES = 100;
const WRITERS = 20;
const CONCURRENCY = envNumber("BENCH_CONCURRENCY", 16, { min: 1, max: 100, integer: true });

const log = (line: string) => process.stderr.write(`${line}\n`);

async function until(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 900_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run `loops` concurrent loops of `op` for `seconds`; per-op latency in ms. */
async function closedLoop(loops: number, seconds: number, op: (loop: number, i: number) => Promise<boolean>) {
  const latencies: number[] = [];
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; performance.now() < end; i++) {
        const s = performance.now();
        const ok = await op(loop, i);
        if (ok) latencies.push(performance.now() - s);
        else failed++;
      }
    }),
  );
  return { latencies, failed, seconds: (performance.now() - t0) / 1000 };
}

async function inbound(databaseUrl: string, coupleIds: string[]) {
  const hub = await startBenchHub(databaseUrl, { role: "web" });
  try {
    const secret = generateSecret();
    // Created as the console would store it: scheme in `verification`, secret in the vault.
    const [endpoint] = await hub.ctx.db
      .insert(webhookEndpoints)
      .values({
        direction: "in",
        name: "bench inbound",
        verification: { scheme: { id: "standard-webhooks" }, coupleIdExpression: "coupleId" },
        secretEnc: hub.ctx.vault.encrypt(secret),
        applyAs: "core-fields",
        rateLimitPerMinute: 100_000,
      })
      .returning();
    const url = `${hub.url}/webhooks/in/${endpoint!.id}`;
    const probe = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await probe.arrayBuffer();
    if (probe.status === 404) {
      log("  inbound: POST /webhooks/in/:endpointId is not mounted in this build; inbound part skipped");
      return null;
    }
    const statuses = new Map<number, number>();
    const run = await closedLoop(SENDERS, SECONDS, async (loop, i) => {
      const body = JSON.stringify({ coupleId: coupleIds[(loop * 7 + i) % coupleIds.length], guestCount: 100 + (i % 50) });
      const id = `msg_${loop}_${i}_${crypto.randomBytes(4).toString("hex")}`;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...signedHeaders([secret], id, Math.floor(Date.now() / 1000), body) },
        body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return res.status >= 200 && res.status < 300;
    });
    log(`  inbound answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The processing jobs are not measured here; drop them so they do not run during the outbound part.
    await hub.ctx.db.execute(sql`delete from graphile_worker._private_jobs j using graphile_worker._private_tasks t
      where t.id = j.task_id and t.identifier = 'process_inbound_webhook'`);
    return { ...summarize(run.latencies), perS: run.latencies.length / run.seconds, failed: run.failed };
  } finally {
    await hub.stop();
  }
}

/** The floor: SENDERS loops of single-row INSERTs of a raw body, each its own transaction, over plain `pg`. */
async function floor(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: SENDERS });
  try {
    await pool.query(
      "create table if not exists bench_floor (id bigserial primary key, received_at timestamptz default now(), body text not null)",
    );
    const run = await closedLoop(SENDERS, SECONDS, async (loop, i) => {
      await pool.query("insert into bench_floor (body) values ($1)", [JSON.stringify({ coupleId: loop, guestCount: i })]);
      return true;
    });
    await pool.query("drop table bench_floor");
    return { ...summarize(run.latencies), perS: run.latencies.length / run.seconds };
  } finally {
    await pool.end();
  }
}

async function outbound(databaseUrl: string, coupleIds: string[], cleanup: Cleanup) {
  const receivers: { def: WebhookReceiverDefinition; sim: RunningSimulator }[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const def = createWebhookReceiverSimulator({ name: `receiver-${i}` });
    const sim = await startSimulator(def, { seed: i + 1 });
    cleanup.add(`receiver ${i}`, () => sim.close());
    receivers.push({ def, sim });
  }
  const hub = await startBenchHub(databaseUrl, { role: "all", config: { workerConcurrency: CONCURRENCY } });
  cleanup.add("outbound hub", () => hub.stop());
  const db = hub.ctx.db;
  for (const [i, r] of receivers.entries()) {
    const { secret } = await createEndpoint(
      hub.ctx,
      { type: "staff" },
      { name: `receiver ${i}`, url: `${r.sim.url}/hooks` },
      systemActor("bench"),
    );
    r.def.receiver.setSecrets([secret]);
  }
  const expected = EVENTS * RECEIVERS;
  const accepted = () => receivers.reduce((n, r) => n + r.def.receiver.accepted().length, 0);

  const principal = systemPrincipal("bench", "staff");
  const perCouple = Math.ceil(EVENTS / COUPLES);
  const t0 = performance.now();
  let next = 0;
  // Writers take whole couples, so one couple's writes are sequential (as the version check requires anyway).
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let c = next++; c < COUPLES; c = next++) {
        const n = Math.min(perCouple, EVENTS - c * perCouple);
        for (let i = 0; i < n; i++)
          await updateCoreFields(db, principal, {
            coupleId: coupleIds[c]!,
            patch: { guestCount: 101 + i },
            expectedVersion: "current",
          });
      }
    }),
  );
  const writeSeconds = (performance.now() - t0) / 1000;
  log(
    `  outbound: ${EVENTS} events written in ${writeSeconds.toFixed(2)} s; ${accepted()} of ${expected} deliveries acknowledged so far`,
  );
  let last = 0;
  let lastChange = Date.now();
  await until("every delivery", () => {
    const n = accepted();
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > 60_000) throw new Error(`deliveries stalled at ${n} of ${expected}`);
    return n >= expected;
  });
  // The receivers have everything; wait for the hub's own records of it too.
  await until("the delivery records", async () => {
    const res = await db.execute<{ n: number }>(
      sql`select count(*)::int n from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id where e.direction = 'out' and d.status = 'delivered'`,
    );
    return res.rows[0]!.n >= expected;
  });
  const seconds = (performance.now() - t0) / 1000;

  let duplicates = 0;
  let unverified = 0;
  let orderViolations = 0;
  for (const r of receivers) {
    const seen = new Set<string>();
    const lastSeq = new Map<string, number>();
    for (const d of r.def.receiver.accepted()) {
      if (seen.has(d.webhookId!)) duplicates++;
      seen.add(d.webhookId!);
      if (d.verifiedWith.length === 0) unverified++;
      if (d.coupleId && d.seq !== null) {
        if ((lastSeq.get(d.coupleId) ?? 0) >= d.seq) orderViolations++;
        lastSeq.set(d.coupleId, d.seq);
      }
    }
  }
  const pending = await db.execute<{ n: number }>(
    sql`select count(*)::int n from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id where e.direction = 'out' and d.status <> 'delivered'`,
  );
  return { perS: expected / seconds, seconds, duplicates, unverified, orderViolations, notDelivered: pending.rows[0]!.n };
}

async function main() {
  const cleanup = new Cleanup();
  try {
    const database = await createBenchDatabase({ prefix: "hub_bench_webhooks", log });
    cleanup.add("bench database", () => database.drop());
    // A world for both parts: COUPLES couples, each connected to its own supplier.
    const setup = await startBenchHub(database.url, { role: "web" });
    const coupleIds: string[] = [];
    for (let i = 0; i < COUPLES; i++) {
      const [supplier] = await setup.ctx.db
        .execute<{ id: string }>(
          sql`insert into suppliers (name, kind) values (${`Bench Studio ${i}`}, 'photographer') returning id`,
        )
        .then((r) => r.rows);
      const res = await setup.ctx.db.execute<{ id: string }>(
        sql`insert into couples (display_name) values (${`Bench couple ${i}`}) returning id`,
      );
      const id = res.rows[0]!.id;
      await setup.ctx.db.execute(
        sql`insert into core_fields (couple_id, version, fields) values (${id}, 1, '{"guestCount": 100}'::jsonb)`,
      );
      await setup.ctx.db.execute(sql`insert into supplier_couples (supplier_id, couple_id) values (${supplier!.id}, ${id})`);
      coupleIds.push(id);
    }
    await setup.stop();
    console.log(
      `webhooks bench: inbound ${SENDERS} senders x ${SECONDS} s; outbound ${EVENTS} events x ${RECEIVERS} receivers over ${COUPLES} couples, worker concurrency ${CONCURRENCY}; ${database.where}`,
    );

    const inb = await inbound(database.url, coupleIds);
    const fl = await floor(database.url);
    if (inb)
      console.log(
        `  inbound: ${Math.round(inb.perS)} acknowledged/s, p50 ${inb.p50.toFixed(2)} ms, p99 ${inb.p99.toFixed(2)} ms (${inb.failed} not 2xx); floor (pg single-row INSERTs): ${Math.round(fl.perS)}/s, p99 ${fl.p99.toFixed(2)} ms`,
      );
    else console.log(`  inbound: skipped (route not in this build); floor (pg single-row INSERTs): ${Math.round(fl.perS)}/s`);

    const out = await outbound(database.url, coupleIds, cleanup);
    console.log(
      `  outbound: ${Math.round(out.perS)} deliveries/s (${EVENTS * RECEIVERS} in ${out.seconds.toFixed(2)} s), ${out.duplicates} duplicates, ${out.unverified} unverified, ${out.orderViolations} per-couple order violations, ${out.notDelivered} not delivered`,
    );
    console.log(
      JSON.stringify({
        bench: "webhooks",
        in_per_s: inb ? Math.round(inb.perS) : null,
        in_p50_ms: inb ? round2(inb.p50) : null,
        in_p99_ms: inb ? round2(inb.p99) : null,
        floor_in_per_s: Math.round(fl.perS),
        out_per_s: Math.round(out.perS),
        out_duplicates: out.duplicates,
        out_order_violations: out.orderViolations,
        out_events: EVENTS,
        out_receivers: RECEIVERS,
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
