// npm run bench:messaging — BENCH_MESSAGES (10,000) wedding-reminder emails,
// one recipient each, go in through the real sendMessage (BENCH_PRODUCERS
// concurrent callers, each call its own transaction that stores the message
// and queues its deliver_message job) and out through real graphile-worker
// jobs in this process (BENCH_CONCURRENCY workers) and the real provider SDKs
// against the Resend, SendGrid and SES simulators started in this run
// (connector rows as test/messaging/helpers.ts sets them, rate limits raised).
// When a third of the messages have been accepted by Resend, the Resend
// simulator starts answering 500 to everything: the circuit opens and the
// rest fail over to SendGrid.
// Reported: sent (messages the hub marked sent), duplicates (deliveries beyond
// the first per message key, summed over all three simulators' outboxes, so a
// message taken by two providers counts too), failover_ms (first failed Resend
// attempt finished -> first accepted SendGrid attempt finished, from
// message_attempts) and msgs_per_s (first sendMessage -> every message sent).
// Floor in the same run: the same emails (rendered beforehand) POSTed straight
// to the healthy Resend simulator's API by a bare fetch loop with the workers'
// concurrency, before the hub starts. The LAST line is one JSON object.
import { sql } from "drizzle-orm";
import { sendMessage } from "../app/messaging/send.server";
import { renderEmail } from "../app/messaging/templates/render.server";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import {
  configureBenchEmailProviders,
  countAcrossOutboxes,
  EMAIL_PROVIDERS,
  RESEND_API_KEY,
  startBenchEmailSims,
  type BenchEmailSims,
} from "./lib/email-sims";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";
import { waitFor } from "./lib/net";

const MESSAGES = envNumber("BENCH_MESSAGES", 10_000, { min: 30, max: 1_000_000, integer: true });
const CONCURRENCY = envNumber("BENCH_CONCURRENCY", 8, { min: 1, max: 64, integer: true });
const PRODUCERS = envNumber("BENCH_PRODUCERS", 4, { min: 1, max: 64, integer: true });
/** Resend starts failing once this many messages went out through it. */
const FAULT_AT = Math.ceil(MESSAGES / 3);
/** Simulators' and hub's rate limits: far above what the bench reaches, so neither throttles. */
const RATE_PER_SECOND = 1_000_000;
const TEMPLATE = "wedding_reminder";
const FROM = '"WedSync" <notifications@wedsync.example>';

const log = (line: string) => process.stderr.write(`${line}\n`);

const recipient = (i: number) => `guest-${i}@bench.example`;
const templateData = (i: number) => ({
  coupleName: `Bench couple ${i}`,
  weddingDate: "Saturday 12 June 2027",
  venue: "Hartwell House",
  daysToGo: i % 365,
});

async function until(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 900_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The floor: the same emails as the hub sends them through Resend's SDK (rendered beforehand), POSTed
 * by `concurrency` bare fetch loops straight to the Resend simulator, each with its own Idempotency-Key.
 */
async function floorRate(sims: BenchEmailSims, n: number, concurrency: number): Promise<number> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = await renderEmail(TEMPLATE, templateData(i));
    bodies.push(
      JSON.stringify({
        from: FROM,
        to: [recipient(i)],
        subject: e.subject,
        html: e.html,
        text: e.text,
        attachments: [],
        tags: [{ name: "hub_message", value: `floor-${i}` }],
      }),
    );
  }
  const url = `${sims.resend.sim.url}/emails`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            authorization: `Bearer ${RESEND_API_KEY}`,
            "content-type": "application/json",
            "idempotency-key": `floor/${i}`,
          },
          body: bodies[i],
        });
        if (res.status !== 200) throw new Error(`bare Resend POST answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function main() {
  const cleanup = new Cleanup();
  try {
    const database = await createBenchDatabase({ prefix: "hub_bench_messaging", log });
    cleanup.add("bench database", () => database.drop());
    const sims = await startBenchEmailSims({ ratePerSecond: RATE_PER_SECOND });
    cleanup.add("email simulators", () => sims.close());
    console.log(
      `messaging bench: ${MESSAGES} emails, ${PRODUCERS} senders, worker concurrency ${CONCURRENCY}, Resend answers 500 after ${FAULT_AT}; ${database.where}`,
    );

    // Floor first, while the Resend simulator is healthy; its emails are then cleared from the outbox.
    log(`  floor: rendering ${MESSAGES} emails, then ${CONCURRENCY} bare POST loops to the Resend simulator`);
    const floor = await floorRate(sims, MESSAGES, CONCURRENCY);
    log(`  floor: ${Math.round(floor)} emails/s`);
    sims.resend.def.outbox.clear();

    const hub = await startBenchHub(database.url, { role: "all", config: { workerConcurrency: CONCURRENCY } });
    cleanup.add("hub", () => hub.stop());
    const db = hub.ctx.db;
    // timeoutMs at the production default (the tests' 1 s exists for their hanging-provider case).
    await configureBenchEmailProviders(hub.ctx, sims, { ratePerSecond: RATE_PER_SECOND, settings: { timeoutMs: 10_000 } });

    const accepted = () => sims.outboxes().reduce((n, o) => n + o.outbox.list().length, 0);
    let enqueued = 0;
    let faultAt: number | null = null;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const progress = setInterval(() => {
      const per = sims
        .outboxes()
        .map((o) => `${o.id} ${o.outbox.list().length}`)
        .join(", ");
      log(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${enqueued} queued; accepted: ${per}`);
    }, 2000);
    cleanup.add("progress", () => clearInterval(progress));

    // Senders: each email is its own sendMessage call (its own transaction), in order of i.
    let next = 0;
    const producing = Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        for (let i = next++; i < MESSAGES; i = next++) {
          await sendMessage(db, {
            recipients: [recipient(i)],
            channel: "email",
            template: TEMPLATE,
            data: templateData(i),
            idempotencyKey: `bench-msg:${i}`,
          });
          enqueued++;
        }
      }),
    );
    // A third of the way through, Resend goes down: 500 for every call from now on.
    const faulting = (async () => {
      const ok = await waitFor(() => sims.resend.def.outbox.list().length >= FAULT_AT, 900_000, 2);
      if (!ok) throw new Error("Resend never reached a third of the messages");
      sims.resend.sim.setFaults({ errorRate: 1, errorStatus: 500 });
      faultAt = performance.now();
      log(
        `  ${((faultAt - t0) / 1000).toFixed(2)} s: Resend now answers 500 (${sims.resend.def.outbox.list().length} accepted by it)`,
      );
    })();
    await producing;
    const enqueueSeconds = (performance.now() - t0) / 1000;
    log(`  all ${MESSAGES} messages queued in ${enqueueSeconds.toFixed(2)} s`);
    await faulting;

    let last = 0;
    let lastChange = Date.now();
    await until("every email at a provider", () => {
      const n = accepted();
      if (n !== last) [last, lastChange] = [n, Date.now()];
      if (Date.now() - lastChange > 60_000) throw new Error(`deliveries stalled at ${n} of ${MESSAGES}`);
      return n >= MESSAGES;
    });
    // The simulators have them; wait for the hub's own records too (a message is done when it is marked sent).
    const notDone = async () =>
      (
        await db.execute<{ n: number }>(
          sql`select count(*)::int n from messages where status not in ('sent', 'failed', 'suppressed')`,
        )
      ).rows[0]!.n;
    await until("the hub's records", async () => (await notDone()) === 0, 120_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(progress);

    const byStatus = await db.execute<{ status: string; provider: string | null; n: number }>(
      sql`select status, provider, count(*)::int n from messages group by 1, 2 order by 1, 2`,
    );
    const sent = byStatus.rows.filter((r) => r.status === "sent").reduce((n, r) => n + r.n, 0);
    const attempts = await db.execute<{ provider: string; status: string; n: number }>(
      sql`select provider, status, count(*)::int n from message_attempts group by 1, 2 order by 1, 2`,
    );
    // Failover time as test/messaging/failover.test.ts measures it: first failed Resend attempt -> first SendGrid acceptance.
    const fo = await db.execute<{ failed_at: Date | null; accepted_at: Date | null }>(sql`
      with f as (select min(finished_at) t from message_attempts where provider = 'resend' and status = 'failed')
      select f.t failed_at,
             (select min(finished_at) from message_attempts
               where provider = 'sendgrid' and status = 'accepted' and finished_at >= f.t) accepted_at
      from f`);
    const failedAt = fo.rows[0]?.failed_at ? new Date(fo.rows[0].failed_at) : null;
    const acceptedAt = fo.rows[0]?.accepted_at ? new Date(fo.rows[0].accepted_at) : null;
    const failoverMs = failedAt && acceptedAt ? acceptedAt.getTime() - failedAt.getTime() : null;

    const { delivered, duplicates } = countAcrossOutboxes(sims);
    const perS = MESSAGES / seconds;
    log(`  messages: ${byStatus.rows.map((r) => `${r.status}/${r.provider ?? "-"} ${r.n}`).join(", ")}`);
    log(
      `  this process (senders, hub, workers, simulators): ${((cpu.user + cpu.system) / 1000 / MESSAGES).toFixed(2)} ms CPU per email, ${Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100)}% of one core`,
    );
    log(`  attempts: ${attempts.rows.map((r) => `${r.provider}/${r.status} ${r.n}`).join(", ")}`);
    log(
      `  outboxes: ${EMAIL_PROVIDERS.map((p) => `${p} ${sims[p].def.outbox.list().length}`).join(", ")}; ${delivered.size} distinct keys`,
    );
    console.log(
      `  hub: ${Math.round(perS)} emails/s (${MESSAGES} in ${seconds.toFixed(2)} s, queued in ${enqueueSeconds.toFixed(2)} s), ${sent} sent, ${duplicates} duplicates, failover ${failoverMs ?? "n/a"} ms; bare HTTP loop: ${Math.round(floor)} emails/s`,
    );
    console.log(
      JSON.stringify({
        bench: "messaging",
        messages: MESSAGES,
        sent,
        duplicates,
        failover_ms: failoverMs,
        msgs_per_s: Math.round(perS),
        floor_msgs_per_s: Math.round(floor),
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
