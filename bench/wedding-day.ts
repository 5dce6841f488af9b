// npm run bench:wedding-day — a chaos bench: the day before a wedding, every
// provider misbehaves while the couple keeps changing things.
//
// World (one fresh database, one in-process hub with role "all", this process's
// graphile-worker at BENCH_CONCURRENCY):
//   - one couple whose weddingDate is TOMORROW in its own time zone
//     (Europe/London), so wedding-day mode is automatic (checked before the run);
//   - BENCH_VENDORS (200) suppliers connected to it, each with an email address
//     (the coalesced "core fields changed" email) and a vendor Socket.IO client
//     (client/realtime.ts, a supplier API token) joined to couple:<id>;
//   - BENCH_CALENDARS (50) of them with a Google Calendar connection (each its
//     own calendar at the Google Calendar simulator, reached through
//     config.providerApiRoots), pushed once before the run;
//   - BENCH_WEBHOOKS (50) of them with an outbound webhook endpoint
//     (core_fields.updated) on BENCH_RECEIVERS (5) webhook-receiver simulators,
//     each path verifying its own Standard Webhooks secret;
//   - email through Resend, SendGrid and SES simulators (failover order), with
//     the coalescing window shortened to BENCH_MAIL_DELAY_MS (20 s; 60 s in
//     production) through setCoreFieldsMailDelay;
//   - beside it, a bulk Tave import of BENCH_IMPORT_CLIENTS (3,000) clients for
//     another supplier, started just before the changes.
//
// Run: BENCH_CHANGES (100) changes of guest count (every change), ceremony and
// reception times (every 3rd) and venue (every 4th), written as the couple
// through updateCoreFields every BENCH_CHANGE_INTERVAL_MS (400). From the first
// change until BENCH_FAULT_TAIL_S (15) after the last one, EVERY simulator
// involved (Google Calendar, Tave, Resend, SendGrid, SES, the receivers) answers
// BENCH_ERROR_RATE (0.3) of requests with a 5xx (503, 500, 502 in turn), hangs
// BENCH_HANG_RATE (0.02) of them (never answered), and every BENCH_STORM_EVERY_S
// (12) s a 429 storm of BENCH_STORM_S (3) s answers 90% with 429 + Retry-After
// 2 s. Then the faults go off and the bench waits (at most BENCH_DEADLINE_S,
// 300 s) until everything settled: every critical delivery done, or no
// wedding work left queued (nothing more can arrive), and the import ended.
//
// What is counted (critical_expected / critical_done; a duplicate never counts
// twice: extra copies are in `duplicates`):
//   sockets   each (change, supplier) pair: the change's event (its seq and
//             version) reached that supplier's client. Expected CHANGES x VENDORS.
//   calendars each Google connection: exactly the final state at the simulator,
//             i.e. its wedding event (by hubKey, not cancelled) has the managed
//             fields (summary, description, location, start, end) the hub's
//             mapping gives for the final core fields, and the final guest count,
//             venue and ceremony time are visibly in it. Expected CALENDARS;
//             more than one live event for the wedding in a calendar is a duplicate.
//   webhooks  each (change, endpoint): a signed delivery of that change's event
//             (seq and version) acknowledged 2xx by the receiver, in order (not
//             after a later seq of the same endpoint). Expected CHANGES x WEBHOOKS;
//             a second acknowledgement of a seq is a duplicate.
//   messages  each email the hub promised: every core_fields_changed message it
//             queued for the couple (one per supplier per coalescing window, the
//             key naming the last change it covers), plus, per supplier, the email
//             covering the LAST change if the hub never queued one. Done when the
//             key reached a provider's outbox (Resend, SendGrid or SES); a key in
//             the outboxes more than once is a duplicate. The hub marks an email
//             "sent (unconfirmed)" when a provider without idempotency keys
//             (SendGrid, SES) never answered, and does not resend it (a second
//             provider could deliver it twice): when the request had hung at the
//             simulator, that email is missing here, and the summary says so.
//
// Also reported: updateCoreFields time per change (write_p50/p99_ms), how long
// after the faults went off everything settled (settle_s), the import's counts
// and yields, and the injected faults.
//
// p50/p99_propagation_ms: from each change's commit (when updateCoreFields
// returned; an event that arrived before that counts as 0 ms) to its arrival at
// each socket (client-side performance.now(), same process). webhook_p99_ms:
// commit to the first 2xx acknowledgement at the receiver (wall clock).
//
// import_paused_ms: the bench watches the import's graphile-worker job (key
// import:<runId>) every 100 ms from its first page on. The job is locked while
// it imports; it is unlocked and waiting only when the import yielded between
// pages (runImport's shouldYield saw wedding-day critical work queued and
// re-queued the run 5 s later) until a worker picks it up again. The sum of
// those waiting intervals is import_paused_ms (sampled, so +-100 ms per
// yield); waits after a failed attempt (a hung Tave call) are reported apart.
//
// Retries and backoffs all run at real time: the outbound webhooks of a
// wedding-day couple retry on the wedding-day policy (1, 5, 15, 30, 60 s, then
// Svix's schedule), calendar syncs on Retry-After or their own backoff,
// messages on the breaker and reschedule, Tave pages on their waits, failed
// jobs on graphile-worker's. BENCH_WEBHOOK_TIME_SCALE (1) can compress the
// webhook schedule through the config's timeScale, as tests do.
//
// Everything runs in this one process on loopback. Progress and a summary on
// stderr; the LAST stdout line is one JSON object.
import pg from "pg";
import { and, eq, sql } from "drizzle-orm";
import { connections, coreFields, couples, messages, suppliers, supplierCouples, syncRuns } from "../db/schema";
import { connectHub, type HubClient } from "../client/realtime";
import { createApiToken } from "../app/auth/api-tokens.server";
import { systemActor } from "../app/audit/audit.server";
import { updateCoreFields } from "../app/core-fields/write.server";
import { systemPrincipal } from "../app/core-fields/principal";
import { enqueueCalendarSync } from "../app/calendar/consumers.server";
import { canonicalJson, supplierWeddingEvents, type DesiredEvent } from "../app/calendar/wedding-events.server";
import { createEndpoint } from "../app/webhooks/outbound/endpoints.server";
import { webhooksOutConfig } from "../app/webhooks/outbound/config";
import { setCoreFieldsMailDelay } from "../app/messaging/consumers.server";
import { invalidateProviders } from "../app/messaging/registry.server";
import { messageKey } from "../app/messaging/send.server";
import { importJobKey, startImport } from "../app/import/engine.server";
import { weddingDayOf } from "../app/wedding-day/mode.server";
import type { HubContext } from "../app/runtime/context.server";
import { startSimulator, type RunningSimulator } from "../simulators/harness";
import {
  createGoogleCalendarSimulator,
  type GoogleCalendarEvent,
  type GoogleCalendarSimulatorDefinition,
} from "../simulators/google-calendar/index";
import { createWebhookReceiverSimulator, type WebhookReceiverDefinition } from "../simulators/webhook-receiver/index";
import { createResendSimulator } from "../simulators/resend/index";
import { createSendGridSimulator } from "../simulators/sendgrid/index";
import { createSesSimulator } from "../simulators/ses/index";
import { createTaveSimulator } from "../simulators/tave/index";
import type { Outbox } from "../simulators/email/outbox";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";
import { sleep } from "./lib/net";
import { fmt2, round2, summarize, table } from "./lib/stats";

const VENDORS = envNumber("BENCH_VENDORS", 200, { min: 2, max: 2000, integer: true });
const CHANGES = envNumber("BENCH_CHANGES", 100, { min: 1, max: 10_000, integer: true });
const CALENDARS = Math.min(VENDORS, envNumber("BENCH_CALENDARS", 50, { min: 0, max: 2000, integer: true }));
const WEBHOOKS = Math.min(VENDORS, envNumber("BENCH_WEBHOOKS", 50, { min: 0, max: 2000, integer: true }));
const RECEIVERS = envNumber("BENCH_RECEIVERS", 5, { min: 1, max: 50, integer: true });
const IMPORT_CLIENTS = envNumber("BENCH_IMPORT_CLIENTS", 3000, { min: 0, max: 1_000_000, integer: true });
const CHANGE_INTERVAL_MS = envNumber("BENCH_CHANGE_INTERVAL_MS", 400, { min: 0, max: 60_000 });
const ERROR_RATE = envNumber("BENCH_ERROR_RATE", 0.3, { min: 0, max: 1 });
const HANG_RATE = envNumber("BENCH_HANG_RATE", 0.02, { min: 0, max: 1 });
const STORM_EVERY_S = envNumber("BENCH_STORM_EVERY_S", 12, { min: 1, max: 3600 });
const STORM_S = envNumber("BENCH_STORM_S", 3, { min: 0, max: 3600 });
const FAULT_TAIL_S = envNumber("BENCH_FAULT_TAIL_S", 15, { min: 0, max: 3600 });
const DEADLINE_S = envNumber("BENCH_DEADLINE_S", 300, { min: 1, max: 7200 });
const MAIL_DELAY_MS = envNumber("BENCH_MAIL_DELAY_MS", 20_000, { min: 0, max: 3_600_000, integer: true });
const WEBHOOK_TIME_SCALE = envNumber("BENCH_WEBHOOK_TIME_SCALE", 1, { min: 0.0001, max: 1 });
const CONCURRENCY = envNumber("BENCH_CONCURRENCY", 16, { min: 1, max: 100, integer: true });

const TIME_ZONE = "Europe/London";
const STORM_RATE = 0.9;
const RETRY_AFTER_S = 2;
const ERROR_STATUSES = [503, 500, 502] as const;
const EMAIL_RATE = 50;
const TAVE_KEY = "bench-tave-key";
const HUB_LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
type LogLevel = (typeof HUB_LOG_LEVELS)[number];

const log = (line: string) => process.stderr.write(`[bench:wedding-day] ${line}\n`);
const gcalToken = (i: number) => `bench-gcal-${i}`;
const gcalOwner = (i: number) => `vendor-${i}@calendar.bench.test`;

function hubLogLevel(): LogLevel {
  const raw = process.env.BENCH_HUB_LOG_LEVEL ?? "fatal";
  if (!(HUB_LOG_LEVELS as readonly string[]).includes(raw))
    throw new Error(`BENCH_HUB_LOG_LEVEL must be one of ${HUB_LOG_LEVELS.join(", ")} (got "${raw}")`);
  return raw as LogLevel;
}

/** Tomorrow's date (YYYY-MM-DD) on the wall calendar of `timeZone`. */
function tomorrowIn(timeZone: string): string {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    new Date(),
  );
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60) % 24).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** Change i (1-based): the guest count every time, the times every 3rd change, the venue every 4th. */
function patchFor(i: number): Record<string, unknown> {
  const patch: Record<string, unknown> = { guestCount: 120 + i };
  if (i % 3 === 0) {
    const ceremony = 12 * 60 + ((i * 5) % 180);
    patch.ceremonyTime = hhmm(ceremony);
    patch.receptionTime = hhmm(ceremony + 270);
  }
  if (i % 4 === 0) patch.venueName = `Bench Hall ${i}`;
  return patch;
}

interface Change {
  index: number;
  seq: number;
  version: number;
  /** performance.now() and Date.now() when updateCoreFields returned (the transaction had committed). */
  committedAt: number;
  committedWall: number;
}

/** outboxKey as the email simulators store keys (SES tags allow only [A-Za-z0-9_-]). */
const outboxKey = (key: string) => key.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);

interface Sim {
  name: string;
  sim: RunningSimulator;
}

// ------------------------------------------------------------------ faults
class FaultPlan {
  private timer: NodeJS.Timeout | undefined;
  private cycle = 0;
  private storming = false;
  stormCount = 0;

  constructor(private readonly sims: Sim[]) {}

  private calm(): void {
    const errorStatus = ERROR_STATUSES[this.cycle % ERROR_STATUSES.length]!;
    for (const { sim } of this.sims)
      sim.setFaults({
        errorRate: ERROR_RATE,
        errorStatus,
        hangRate: HANG_RATE,
        rateLimitRate: 0,
        retryAfterSeconds: RETRY_AFTER_S,
      });
  }

  start(): void {
    this.calm();
    const tick = () => {
      if (this.storming) {
        this.storming = false;
        this.cycle++;
        this.calm();
        this.timer = setTimeout(tick, Math.max(0, STORM_EVERY_S - STORM_S) * 1000);
      } else {
        this.storming = true;
        this.stormCount++;
        for (const { sim } of this.sims) sim.setFaults({ rateLimitRate: STORM_RATE });
        this.timer = setTimeout(tick, STORM_S * 1000);
      }
    };
    this.timer = setTimeout(tick, Math.max(0, STORM_EVERY_S - STORM_S) * 1000);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { sim } of this.sims) sim.resetFaults();
  }

  totals() {
    const t = { requests: 0, injectedErrors: 0, injectedRateLimits: 0, hung: 0 };
    for (const { sim } of this.sims) {
      const s = sim.stats();
      t.requests += s.requests;
      t.injectedErrors += s.injectedErrors;
      t.injectedRateLimits += s.injectedRateLimits;
      t.hung += s.hung;
    }
    return t;
  }
}

// ------------------------------------------------------------------ world
interface Vendor {
  index: number;
  id: string;
  email: string;
  token: string;
  calendar?: { connectionId: string; owner: string };
  webhook?: { endpointId: string; def: WebhookReceiverDefinition; path: string };
}

async function seedWorld(ctx: HubContext, weddingDate: string) {
  const db = ctx.db;
  const [couple] = await db.insert(couples).values({ displayName: "Ada & Grace (bench)" }).returning({ id: couples.id });
  const coupleId = couple!.id;
  await db.insert(coreFields).values({
    coupleId,
    version: 1,
    fields: {
      weddingDate,
      timezone: TIME_ZONE,
      ceremonyTime: "14:00",
      receptionTime: "18:30",
      partner1Name: "Ada Lovelace",
      partner2Name: "Grace Hopper",
      venueName: "Bench Hall",
      venueAddress: "1 Bench Lane, London",
      guestCount: 120,
    },
  });
  const kinds = ["photographer", "caterer", "florist", "band", "venue", "planner", "videographer", "baker"];
  const rows = await db
    .insert(suppliers)
    .values(
      Array.from({ length: VENDORS }, (_, i) => ({
        name: `Bench Vendor ${i}`,
        kind: kinds[i % kinds.length]!,
        email: `vendor-${i}@bench.wedsync.test`,
      })),
    )
    .returning({ id: suppliers.id, email: suppliers.email });
  await db.insert(supplierCouples).values(rows.map((r) => ({ supplierId: r.id, coupleId })));
  const actor = systemActor("bench:wedding-day");
  const vendors: Vendor[] = [];
  for (const [i, r] of rows.entries()) {
    const t = await createApiToken(
      db,
      { name: `bench vendor ${i}`, kind: "supplier", supplierId: r.id, scopes: ["events:read"] },
      actor,
    );
    vendors.push({ index: i, id: r.id, email: r.email!, token: t.token });
  }
  return { coupleId, vendors };
}

async function configureEmail(
  ctx: HubContext,
  resend: RunningSimulator,
  sendgrid: RunningSimulator,
  ses: RunningSimulator,
): Promise<void> {
  const rows: [string, string, Record<string, string>, number][] = [
    ["resend", resend.url, { apiKey: "re_bench" }, 10],
    ["sendgrid", sendgrid.url, { apiKey: "SG.bench" }, 20],
    ["ses", ses.url, { region: "eu-west-1", accessKeyId: "AKIABENCH", secretAccessKey: "bench-secret" }, 30],
  ];
  for (const [id, url, secrets, priority] of rows) {
    const settings = {
      apiRootUrl: url,
      priority,
      timeoutMs: 5000,
      halfOpenAfterMs: 1000,
      breakerThreshold: 3,
      rateLimit: { requests: EMAIL_RATE, perSeconds: 1 },
      // SendGrid and SES have no idempotency keys: an unconfirmed send is sent again elsewhere after 5 s
      // without a provider event. Their events are not wired here, so every unconfirmed send is resent;
      // a resend of one the provider did accept would show in `duplicates`.
      ...(id === "resend" ? {} : { confirmWithinMs: 5_000 }),
    };
    await ctx.db.execute(sql`insert into connectors (id, settings, secrets_enc)
      values (${id}, ${JSON.stringify(settings)}::jsonb, ${ctx.vault.encryptJson(secrets)})
      on conflict (id) do update set settings = excluded.settings, secrets_enc = excluded.secrets_enc, enabled = true`);
  }
  invalidateProviders(ctx);
}

// ------------------------------------------------------------------ accounting
interface SocketLedger {
  /** `${supplierId}:${seq}` -> first arrival (performance.now()) */
  arrivals: Map<string, number>;
  /** Events the helper handed over twice (it drops repeats, so this should stay 0). */
  duplicates: number;
  /** Raw "event" messages seen again on the wire (replays after a reconnect; the helper drops them). */
  rawRepeats: number;
  wrongVersion: number;
  disconnects: number;
  errors: string[];
}

function socketAccounting(changes: Change[], vendors: Vendor[], ledger: SocketLedger) {
  const latencies: number[] = [];
  let done = 0;
  let early = 0;
  for (const c of changes)
    for (const v of vendors) {
      const at = ledger.arrivals.get(`${v.id}:${c.seq}`);
      if (at === undefined) continue;
      done++;
      if (at < c.committedAt) early++;
      latencies.push(Math.max(0, at - c.committedAt));
    }
  return { expected: CHANGES * vendors.length, done, latencies, early, duplicates: ledger.duplicates };
}

function calendarAccounting(
  gcal: GoogleCalendarSimulatorDefinition,
  vendors: Vendor[],
  desired: Map<string, DesiredEvent>,
  final: Record<string, unknown>,
) {
  let done = 0;
  let duplicates = 0;
  const wrong: string[] = [];
  for (const v of vendors) {
    if (!v.calendar) continue;
    const want = desired.get(v.id);
    const live = gcal.control
      .events(v.calendar.owner)
      .filter((e: GoogleCalendarEvent) => e.status !== "cancelled" && hubKeyOf(e) === want?.key);
    if (live.length > 1) duplicates += live.length - 1;
    const ev = live.at(-1);
    if (!want || !ev) {
      if (wrong.length < 3) wrong.push(`vendor ${v.index}: ${want ? "no event" : "no desired event"}`);
      continue;
    }
    const managed = ["summary", "description", "location", "start", "end"] as const;
    const sameAsMapping = managed.every((f) => canonicalJson(ev[f] ?? null) === canonicalJson(want.body[f] ?? null));
    const start = (ev.start as { dateTime?: string } | undefined)?.dateTime ?? "";
    const visible =
      String(ev.description ?? "").includes(`Guests: ${String(final.guestCount)}`) &&
      String(ev.location ?? "").startsWith(String(final.venueName)) &&
      start.startsWith(`${String(final.weddingDate)}T${String(final.ceremonyTime)}`);
    if (sameAsMapping && visible && live.length === 1) done++;
    else if (wrong.length < 3)
      wrong.push(
        `vendor ${v.index}: ${live.length} live event(s), ${sameAsMapping ? "" : "differs from the mapping, "}${visible ? "" : `shows ${String(ev.location)} / ${start} / ${JSON.stringify(ev.description)}`}`,
      );
  }
  return { expected: vendors.filter((v) => v.calendar).length, done, duplicates, wrong };
}

const hubKeyOf = (e: GoogleCalendarEvent) =>
  (e.extendedProperties as { private?: { hubKey?: string } } | undefined)?.private?.hubKey;

function webhookAccounting(changes: Change[], vendors: Vendor[]) {
  const bySeq = new Map(changes.map((c) => [c.seq, c]));
  let done = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let wrongBody = 0;
  const latencies: number[] = [];
  for (const v of vendors) {
    if (!v.webhook) continue;
    const seen = new Set<number>();
    let maxSeq = 0;
    for (const d of v.webhook.def.receiver.accepted({ path: v.webhook.path })) {
      if (d.seq === null) continue;
      const change = bySeq.get(d.seq);
      if (!change || d.verifiedWith.length === 0) {
        wrongBody++;
        continue;
      }
      if (seen.has(d.seq)) {
        duplicates++;
        continue;
      }
      seen.add(d.seq);
      const version = (JSON.parse(d.body) as { data?: { version?: number } }).data?.version;
      if (version !== change.version) {
        wrongBody++;
        continue;
      }
      if (d.seq < maxSeq) {
        outOfOrder++;
        continue;
      }
      maxSeq = d.seq;
      done++;
      latencies.push(Date.parse(d.at) - change.committedWall);
    }
  }
  return { expected: CHANGES * vendors.filter((v) => v.webhook).length, done, duplicates, outOfOrder, wrongBody, latencies };
}

async function emailAccounting(observer: pg.Pool, coupleId: string, vendors: Vendor[], finalSeq: number, outboxes: Outbox[]) {
  const delivered = new Map<string, number>();
  for (const o of outboxes)
    for (const [key, n] of o.countsByKey()) delivered.set(outboxKey(key), (delivered.get(outboxKey(key)) ?? 0) + n);
  const res = await observer.query<{ supplier_id: string; request_key: string; recipient: string; status: string }>(
    `select supplier_id, request_key, recipient, status from messages
     where couple_id = $1 and template = 'core_fields_changed' and status <> 'suppressed'`,
    [coupleId],
  );
  const bySupplier = new Map<string, { key: string; lastSeq: number; status: string }[]>();
  for (const r of res.rows) {
    const list = bySupplier.get(r.supplier_id) ?? [];
    list.push({
      key: outboxKey(messageKey(r.request_key, "email", r.recipient)),
      lastSeq: Number(r.request_key.split(":").at(-1)),
      status: r.status,
    });
    bySupplier.set(r.supplier_id, list);
  }
  let expected = 0;
  let done = 0;
  let duplicates = 0;
  let finalMissing = 0;
  let unconfirmedLost = 0;
  let queued = 0;
  for (const v of vendors) {
    const list = bySupplier.get(v.id) ?? [];
    expected += list.length;
    if (!list.some((m) => m.lastSeq === finalSeq)) {
      expected++;
      finalMissing++;
    }
    for (const m of list) {
      const n = delivered.get(m.key) ?? 0;
      if (n > 0) done++;
      if (n > 1) duplicates += n - 1;
      if (n === 0 && m.status === "sent") unconfirmedLost++;
      if (m.status === "queued" || m.status === "sending") queued++;
    }
  }
  return { expected, done, duplicates, finalMissing, unconfirmedLost, queued, created: res.rows.length };
}

/** Jobs of the wedding's work still queued (now or later): none left means nothing more can arrive. */
async function weddingJobsLeft(observer: pg.Pool): Promise<number> {
  const res = await observer.query<{ n: number }>(
    `select count(*)::int n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
     where t.identifier in ('sync_calendar', 'deliver_webhooks', 'deliver_message', 'notify_core_fields_changed')
       and j.attempts < j.max_attempts`,
  );
  return res.rows[0]!.n;
}

// ------------------------------------------------------------------ import watch
class ImportWatch {
  pausedMs = 0;
  errorWaitMs = 0;
  yields = 0;
  private state: "running" | "paused" | "error-wait" | "other" = "other";
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  finished: { status: string; at: number } | null = null;

  constructor(
    private readonly observer: pg.Pool,
    private readonly runId: string,
  ) {}

  start(): void {
    const poll = async () => {
      try {
        await this.sample();
      } catch (err) {
        log(`import watch: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!this.finished) this.timer = setTimeout(() => void poll(), 100);
    };
    void poll();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private async sample(): Promise<void> {
    const res = await this.observer.query<{
      status: string;
      started: boolean;
      locked: boolean | null;
      last_error: string | null;
    }>(
      `select r.status, r.started_at is not null as started, j.locked_at is not null as locked, j.last_error
       from sync_runs r left join graphile_worker._private_jobs j on j.key = $2
       where r.id = $1`,
      [this.runId, importJobKey(this.runId)],
    );
    const now = performance.now();
    const elapsed = now - this.last;
    this.last = now;
    if (this.state === "paused") this.pausedMs += elapsed;
    else if (this.state === "error-wait") this.errorWaitMs += elapsed;
    const r = res.rows[0];
    if (!r) return;
    if (r.status !== "queued" && r.status !== "running") {
      this.finished = { status: r.status, at: now };
      this.state = "other";
      return;
    }
    if (r.started) this.started = true;
    let next: typeof this.state = "running";
    // No job under the key for a moment: the running job just handed over to its successor.
    if (r.locked === false && this.started) next = r.last_error ? "error-wait" : "paused";
    if (next === "paused" && this.state !== "paused") this.yields++;
    this.state = next;
  }
}

// ------------------------------------------------------------------ main
async function main(): Promise<void> {
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: cleaning up");
    void cleanup.run().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const weddingDate = tomorrowIn(TIME_ZONE);
    log(process.env.DATABASE_URL ? "creating a database on DATABASE_URL" : "starting an embedded PostgreSQL");
    const database = await createBenchDatabase({ prefix: "hub_bench_wedding_day" });
    cleanup.add("bench database", () => database.drop());

    // ---- simulators
    const sims: Sim[] = [];
    const owners = new Map(Array.from({ length: CALENDARS }, (_, i) => [gcalToken(i), gcalOwner(i)]));
    const gcalDef = createGoogleCalendarSimulator({
      authorize: (token) => (owners.has(token) ? { ok: true, user: { email: owners.get(token)! } } : false),
    });
    const resendDef = createResendSimulator({ apiKeys: ["re_bench"], rateLimitPerSecond: EMAIL_RATE });
    const sendgridDef = createSendGridSimulator({ apiKeys: ["SG.bench"], rateLimitPerSecond: EMAIL_RATE });
    const sesDef = createSesSimulator({ accessKeyIds: ["AKIABENCH"], maxSendRate: EMAIL_RATE });
    const taveDef = createTaveSimulator({ rateLimit: { requests: 1_000_000, windowSeconds: 60 } });
    if (IMPORT_CLIENTS > 0) taveDef.control.addAccount({ apiKey: TAVE_KEY, count: IMPORT_CLIENTS, seed: 42 });
    const receiverDefs = Array.from({ length: RECEIVERS }, (_, i) =>
      createWebhookReceiverSimulator({ name: `receiver-${i}`, keepBodies: true }),
    );
    const start = async (name: string, def: Parameters<typeof startSimulator>[0], seed: number) => {
      const sim = await startSimulator(def, { seed });
      cleanup.add(`${name} simulator`, () => sim.close());
      sims.push({ name, sim });
      return sim;
    };
    const gcal = await start("google-calendar", gcalDef, 11);
    const resend = await start("resend", resendDef, 12);
    const sendgrid = await start("sendgrid", sendgridDef, 13);
    const ses = await start("ses", sesDef, 14);
    const tave = await start("tave", taveDef, 15);
    const receivers: RunningSimulator[] = [];
    for (const [i, def] of receiverDefs.entries()) receivers.push(await start(`receiver-${i}`, def, 20 + i));

    // ---- hub
    log(`starting the hub (role all, worker concurrency ${CONCURRENCY})`);
    const hub = await startBenchHub(database.url, {
      role: "all",
      config: {
        logLevel: hubLogLevel(),
        workerConcurrency: CONCURRENCY,
        providerApiRoots: { "google-calendar": `${gcal.url}/`, tave: tave.url },
        webhooksOut: webhooksOutConfig("sandbox", { timeScale: WEBHOOK_TIME_SCALE }),
      },
    });
    cleanup.add("hub", () => hub.stop());
    const ctx = hub.ctx;
    const db = ctx.db;
    const observer = new pg.Pool({ connectionString: database.url, max: 3 });
    observer.on("error", () => undefined);
    cleanup.add("observer pool", () => observer.end());

    // ---- world
    log(`seeding: 1 couple (wedding ${weddingDate}, ${TIME_ZONE}), ${VENDORS} vendors with API tokens`);
    const { coupleId, vendors } = await seedWorld(ctx, weddingDate);
    const wd = await weddingDayOf(db, coupleId);
    if (!wd?.state.active)
      throw new Error(`the couple is not in wedding-day mode (wedding ${weddingDate}): ${JSON.stringify(wd)}`);
    await configureEmail(ctx, resend, sendgrid, ses);
    setCoreFieldsMailDelay(MAIL_DELAY_MS);

    for (const v of vendors.slice(0, CALENDARS)) {
      const [conn] = await db
        .insert(connections)
        .values({
          supplierId: v.id,
          connectorId: "google-calendar",
          accountId: gcalOwner(v.index),
          credentialsEnc: ctx.vault.encryptJson({ accessToken: gcalToken(v.index) }),
        })
        .returning({ id: connections.id });
      v.calendar = { connectionId: conn!.id, owner: gcalOwner(v.index) };
    }
    for (const [n, v] of vendors.slice(VENDORS - WEBHOOKS).entries()) {
      const receiver = receiverDefs[n % RECEIVERS]!;
      const path = `/hooks/${v.index}`;
      const { endpoint, secret } = await createEndpoint(
        ctx,
        { type: "supplier", supplierId: v.id },
        { name: `Vendor ${v.index} CRM`, url: `${receivers[n % RECEIVERS]!.url}${path}`, eventTypes: ["core_fields.updated"] },
        systemActor("bench:wedding-day"),
      );
      receiver.receiver.setSecrets([secret], path);
      v.webhook = { endpointId: endpoint.id, def: receiver, path };
    }

    // Every calendar has the wedding before the day starts (no faults yet).
    log(`pushing the wedding to ${CALENDARS} Google calendars`);
    for (const v of vendors) if (v.calendar) await enqueueCalendarSync(db, v.calendar.connectionId, { delayMs: 0 });
    const pushDeadline = Date.now() + 120_000;
    while (vendors.some((v) => v.calendar && gcalDef.control.events(v.calendar.owner).length === 0)) {
      if (Date.now() > pushDeadline) throw new Error("the first calendar push did not finish in 120 s");
      await sleep(200);
    }
    // Let the first syncs' pulls and watch channels finish before the run.
    while ((await weddingJobsLeft(observer)) > 0) {
      if (Date.now() > pushDeadline) throw new Error("the first calendar syncs did not finish in 120 s");
      await sleep(200);
    }

    // ---- sockets
    log(`connecting ${VENDORS} vendor sockets to couple:${coupleId}`);
    const ledger: SocketLedger = {
      arrivals: new Map(),
      duplicates: 0,
      rawRepeats: 0,
      wrongVersion: 0,
      disconnects: 0,
      errors: [],
    };
    const versionBySeq = new Map<number, number>();
    const clients: HubClient[] = [];
    cleanup.add("vendor sockets", () => clients.forEach((c) => c.close()));
    const joined = new Set<string>();
    const room = `couple:${coupleId}`;
    for (const v of vendors) {
      const raw = new Set<number>();
      const client = connectHub({
        url: hub.url,
        token: v.token,
        rooms: [{ room }],
        socketOptions: { forceNew: true },
        onJoined: () => joined.add(v.id),
        onError: (e) => {
          if (ledger.errors.length < 5) ledger.errors.push(`vendor ${v.index}: ${e.message}`);
        },
        onEvent: (e) => {
          const now = performance.now();
          const key = `${v.id}:${e.seq}`;
          if (ledger.arrivals.has(key)) {
            ledger.duplicates++;
            return;
          }
          const want = versionBySeq.get(e.seq);
          if (want !== undefined && want !== e.event.version) {
            ledger.wrongVersion++;
            return;
          }
          ledger.arrivals.set(key, now);
        },
      });
      client.socket.on("event", (e: { seq: number }) => {
        if (raw.has(e.seq)) ledger.rawRepeats++;
        raw.add(e.seq);
      });
      client.socket.on("disconnect", (reason) => {
        if (reason !== "io client disconnect") ledger.disconnects++;
      });
      clients.push(client);
    }
    const joinDeadline = Date.now() + 60_000;
    while (joined.size < VENDORS) {
      if (Date.now() > joinDeadline) throw new Error(`only ${joined.size} of ${VENDORS} sockets joined in 60 s`);
      await sleep(50);
    }

    // ---- the import beside it
    let watch: ImportWatch | null = null;
    let importRunId: string | null = null;
    const importStartedAt = performance.now();
    if (IMPORT_CLIENTS > 0) {
      await db.execute(sql`insert into connectors (id, settings)
        values ('tave', ${JSON.stringify({ rateLimit: { requests: 1_000_000, perSeconds: 60 } })}::jsonb)
        on conflict (id) do update set settings = excluded.settings`);
      const [studio] = await db
        .insert(suppliers)
        .values({ name: "Bench Import Studio", kind: "photographer" })
        .returning({ id: suppliers.id });
      const [conn] = await db
        .insert(connections)
        .values({
          supplierId: studio!.id,
          connectorId: "tave",
          accountId: "bench-import",
          credentialsEnc: ctx.vault.encryptJson({ apiKey: TAVE_KEY }),
        })
        .returning({ id: connections.id });
      const started = await startImport(ctx, { connectionId: conn!.id });
      if (started.dryRun) throw new Error("unexpected dry run");
      importRunId = started.runId;
      watch = new ImportWatch(observer, importRunId);
      watch.start();
      cleanup.add("import watch", () => watch?.stop());
      log(`import of ${IMPORT_CLIENTS} Tave clients started (run ${importRunId})`);
    }

    // ---- chaos
    const faults = new FaultPlan(sims);
    cleanup.add("faults", () => faults.stop());
    faults.start();
    log(
      `faults on: ${ERROR_RATE * 100}% 5xx, ${HANG_RATE * 100}% hanging, a ${STORM_S} s 429 storm every ${STORM_EVERY_S} s, on ${sims.length} simulators`,
    );
    const principal = systemPrincipal("bench:wedding-day", "couple");
    const changes: Change[] = [];
    const writeErrors: string[] = [];
    const writeMs: number[] = [];
    let version = 1;
    const runStart = performance.now();
    for (let i = 1; i <= CHANGES; i++) {
      const due = runStart + (i - 1) * CHANGE_INTERVAL_MS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      try {
        const t0 = performance.now();
        const res = await updateCoreFields(db, principal, { coupleId, patch: patchFor(i), expectedVersion: version });
        const committedAt = performance.now();
        writeMs.push(committedAt - t0);
        const committedWall = Date.now();
        if (!res.event) throw new Error(`change ${i} changed nothing`);
        version = res.state.version;
        versionBySeq.set(res.event.seq, res.event.version);
        changes.push({ index: i, seq: res.event.seq, version: res.event.version, committedAt, committedWall });
      } catch (err) {
        if (writeErrors.length < 5) writeErrors.push(`change ${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (i % 20 === 0) log(`  ${i}/${CHANGES} changes written`);
    }
    const writeSeconds = (performance.now() - runStart) / 1000;
    if (changes.length !== CHANGES)
      throw new Error(`only ${changes.length} of ${CHANGES} changes were written: ${writeErrors.join("; ")}`);
    const finalSeq = changes.at(-1)!.seq;
    const [finalRow] = await db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
    const finalFields = finalRow!.fields;
    const desired = new Map<string, DesiredEvent>();
    for (const v of vendors)
      if (v.calendar) {
        const ev = (await supplierWeddingEvents(db, v.id)).events.find((e) => e.coupleId === coupleId);
        if (ev) desired.set(v.id, ev);
      }

    const outboxes = [resendDef.outbox, sendgridDef.outbox, sesDef.outbox];
    const snapshot = async () => ({
      sockets: socketAccounting(changes, vendors, ledger),
      calendars: calendarAccounting(gcalDef, vendors, desired, finalFields),
      webhooks: webhookAccounting(changes, vendors),
      emails: await emailAccounting(observer, coupleId, vendors, finalSeq, outboxes),
    });
    const progress = async (label: string) => {
      const s = await snapshot();
      const jobs = await weddingJobsLeft(observer);
      const run = importRunId ? (await db.select().from(syncRuns).where(eq(syncRuns.id, importRunId)))[0] : undefined;
      log(
        `${label}: sockets ${s.sockets.done}/${s.sockets.expected}, calendars ${s.calendars.done}/${s.calendars.expected}, ` +
          `webhooks ${s.webhooks.done}/${s.webhooks.expected}, emails ${s.emails.done}/${s.emails.expected} (${s.emails.created} queued by the hub); ` +
          `${jobs} wedding jobs queued; import ${run ? `${run.status} ${run.done}/${run.total ?? "?"}` : "none"}` +
          (watch ? `, paused ${(watch.pausedMs / 1000).toFixed(1)} s over ${watch.yields} yields` : ""),
      );
      return { s, jobs, run };
    };

    log(`${CHANGES} changes written in ${writeSeconds.toFixed(1)} s; faults stay on for ${FAULT_TAIL_S} s more`);
    const tailEnd = performance.now() + FAULT_TAIL_S * 1000;
    while (performance.now() < tailEnd) {
      await sleep(Math.min(5000, Math.max(0, tailEnd - performance.now())));
      await progress("  under faults");
    }
    const faultStats = faults.totals();
    faults.stop();
    const faultsOffAt = performance.now();
    log(
      `faults off after ${((faultsOffAt - runStart) / 1000).toFixed(1)} s; waiting up to ${DEADLINE_S} s for everything to settle`,
    );

    // ---- settle
    const deadline = faultsOffAt + DEADLINE_S * 1000;
    let lastLog = performance.now();
    let quietSince: number | null = null;
    let settledAt: number | null = null;
    for (;;) {
      await sleep(500);
      const s = await snapshot();
      const complete =
        s.sockets.done === s.sockets.expected &&
        s.calendars.done === s.calendars.expected &&
        s.webhooks.done === s.webhooks.expected &&
        s.emails.done === s.emails.expected &&
        s.emails.queued === 0;
      const jobs = await weddingJobsLeft(observer);
      // Nothing of the wedding's work left to run: nothing more can arrive (give the last replies a moment).
      quietSince = jobs === 0 ? (quietSince ?? performance.now()) : null;
      const quiet = quietSince !== null && performance.now() - quietSince > 3000;
      if ((complete || quiet) && settledAt === null) {
        settledAt = performance.now();
        log(
          `wedding work ${complete ? "complete" : "quiet (nothing left queued)"} ${((settledAt - faultsOffAt) / 1000).toFixed(1)} s after the faults went off`,
        );
      }
      const importOver = !watch || watch.finished !== null;
      if (settledAt !== null && importOver) break;
      if (performance.now() > deadline) {
        log(`deadline of ${DEADLINE_S} s reached`);
        break;
      }
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        await progress("  settling");
      }
    }
    watch?.stop();

    // ---- results
    const s = await snapshot();
    const sockLat = summarize(s.sockets.latencies);
    const hookLat = summarize(s.webhooks.latencies);
    const run = importRunId ? (await db.select().from(syncRuns).where(eq(syncRuns.id, importRunId)))[0] : undefined;
    const importSeconds = watch?.finished ? (watch.finished.at - importStartedAt) / 1000 : null;
    const expected = s.sockets.expected + s.calendars.expected + s.webhooks.expected + s.emails.expected;
    const done = s.sockets.done + s.calendars.done + s.webhooks.done + s.emails.done;
    const duplicates = s.sockets.duplicates + s.calendars.duplicates + s.webhooks.duplicates + s.emails.duplicates;
    const [mailStatus] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(messages)
      .where(and(eq(messages.coupleId, coupleId), eq(messages.status, "failed")));

    const leftovers = await observer.query<{ status: string; n: number; next: Date | null }>(
      `select d.status, count(*)::int n, min(d.next_attempt_at) next from webhook_deliveries d
       join webhook_endpoints e on e.id = d.endpoint_id
       where e.direction = 'out' and d.couple_id = $1 and d.status <> 'delivered' group by d.status`,
      [coupleId],
    );
    const lostMail = await observer.query<{ provider: string | null; status: string; n: number }>(
      `select a.provider, a.status, count(*)::int n from messages m
       left join lateral (select provider, status from message_attempts where message_id = m.id order by attempt_no desc limit 1) a on true
       where m.couple_id = $1 and m.template = 'core_fields_changed' and m.status = 'sent'
         and m.status_reason like 'unconfirmed%' group by 1, 2`,
      [coupleId],
    );
    const writes = summarize(writeMs);

    const lines: string[] = [];
    lines.push(
      `bench:wedding-day — 1 wedding tomorrow (${weddingDate}, ${TIME_ZONE}, wedding-day mode ${wd.state.source}), ${VENDORS} vendors: ` +
        `${VENDORS} sockets, ${CALENDARS} Google calendars, ${WEBHOOKS} webhook endpoints on ${RECEIVERS} receivers, ${VENDORS} email recipients; ` +
        `${CHANGES} changes every ${CHANGE_INTERVAL_MS} ms (${writeSeconds.toFixed(1)} s); worker concurrency ${CONCURRENCY}; ${database.where}`,
    );
    lines.push(
      `faults for ${((faultsOffAt - runStart) / 1000).toFixed(1)} s on ${sims.length} simulators: ${faultStats.requests} requests, ` +
        `${faultStats.injectedErrors} injected 5xx, ${faultStats.injectedRateLimits} injected 429 (${faults.stormCount} storms), ${faultStats.hung} hung`,
    );
    lines.push(
      settledAt !== null
        ? `settled ${((settledAt - faultsOffAt) / 1000).toFixed(1)} s after the faults went off`
        : `NOT settled within ${DEADLINE_S} s after the faults went off`,
    );
    lines.push("");
    lines.push(
      table([
        ["critical deliveries", "expected", "done", "missing", "duplicates", "notes"],
        [
          "sockets (change x vendor)",
          s.sockets.expected,
          s.sockets.done,
          s.sockets.expected - s.sockets.done,
          s.sockets.duplicates,
          `${ledger.disconnects} disconnects, ${ledger.rawRepeats} raw replays dropped by the client, ${ledger.wrongVersion} wrong versions`,
        ],
        [
          "calendars (final state)",
          s.calendars.expected,
          s.calendars.done,
          s.calendars.expected - s.calendars.done,
          s.calendars.duplicates,
          s.calendars.wrong.join("; "),
        ],
        [
          "webhooks (change x endpoint)",
          s.webhooks.expected,
          s.webhooks.done,
          s.webhooks.expected - s.webhooks.done,
          s.webhooks.duplicates,
          `${s.webhooks.outOfOrder} out of order, ${s.webhooks.wrongBody} unverified/wrong`,
        ],
        [
          "emails (coalesced)",
          s.emails.expected,
          s.emails.done,
          s.emails.expected - s.emails.done,
          s.emails.duplicates,
          `${s.emails.created} queued by the hub, ${s.emails.finalMissing} vendors without the last change, ${s.emails.unconfirmedLost} "sent (unconfirmed)" never arrived, ${mailStatus?.n ?? 0} failed, ${s.emails.queued} still queued`,
        ],
        ["total", expected, done, expected - done, duplicates, ""],
      ]),
    );
    lines.push("");
    lines.push(
      table([
        ["latency (ms)", "count", "p50", "p95", "p99", "max"],
        ["commit -> socket", sockLat.count, fmt2(sockLat.p50), fmt2(sockLat.p95), fmt2(sockLat.p99), fmt2(sockLat.max)],
        ["commit -> webhook 2xx", hookLat.count, fmt2(hookLat.p50), fmt2(hookLat.p95), fmt2(hookLat.p99), fmt2(hookLat.max)],
      ]),
    );
    lines.push(
      `updateCoreFields (${VENDORS} vendors, wedding-day mode): p50 ${fmt2(writes.p50)} ms, p99 ${fmt2(writes.p99)} ms, max ${fmt2(writes.max)} ms`,
    );
    for (const r of leftovers.rows)
      lines.push(`webhook deliveries ${r.status}: ${r.n}${r.next ? ` (next attempt ${new Date(r.next).toISOString()})` : ""}`);
    for (const r of lostMail.rows)
      lines.push(`emails "sent (unconfirmed)": ${r.n}, last attempt at ${r.provider ?? "?"} ended ${r.status}`);
    if (s.sockets.early)
      lines.push(`(${s.sockets.early} socket events arrived before updateCoreFields returned: counted as 0 ms)`);
    lines.push("");
    lines.push(
      run
        ? `import: ${run.status} (${run.done}/${run.total ?? "?"} clients, counts ${JSON.stringify(run.counts)})` +
            (importSeconds !== null ? ` in ${importSeconds.toFixed(1)} s` : "") +
            `; paused (yielded to wedding-day work) ${((watch?.pausedMs ?? 0) / 1000).toFixed(1)} s over ${watch?.yields ?? 0} yields; ` +
            `waiting after failed attempts ${((watch?.errorWaitMs ?? 0) / 1000).toFixed(1)} s`
        : "import: none (BENCH_IMPORT_CLIENTS=0)",
    );
    for (const e of writeErrors) lines.push(`write error: ${e}`);
    for (const e of ledger.errors) lines.push(`socket error: ${e}`);
    process.stderr.write(`${lines.join("\n")}\n`);

    console.log(
      JSON.stringify({
        bench: "wedding-day",
        critical_expected: expected,
        critical_done: done,
        p99_propagation_ms: round2(sockLat.p99),
        import_paused_ms: Math.round(watch?.pausedMs ?? 0),
        duplicates,
        p50_propagation_ms: round2(sockLat.p50),
        webhook_p99_ms: round2(hookLat.p99),
        settled: settledAt !== null,
        settle_s: settledAt !== null ? round2((settledAt - faultsOffAt) / 1000) : null,
        write_p50_ms: round2(writes.p50),
        write_p99_ms: round2(writes.p99),
        sockets: { expected: s.sockets.expected, done: s.sockets.done },
        calendars: { expected: s.calendars.expected, done: s.calendars.done, duplicates: s.calendars.duplicates },
        webhooks: {
          expected: s.webhooks.expected,
          done: s.webhooks.done,
          duplicates: s.webhooks.duplicates,
          out_of_order: s.webhooks.outOfOrder,
        },
        messages: {
          expected: s.emails.expected,
          done: s.emails.done,
          duplicates: s.emails.duplicates,
          queued_by_hub: s.emails.created,
        },
        import: {
          finished: run?.status === "succeeded",
          status: run?.status ?? null,
          done: run?.done ?? 0,
          total: run?.total ?? null,
          counts: run?.counts ?? null,
          seconds: importSeconds !== null ? round2(importSeconds) : null,
          yields: watch?.yields ?? 0,
          error_wait_ms: Math.round(watch?.errorWaitMs ?? 0),
        },
        faults: { ...faultStats, storms: faults.stormCount, seconds: round2((faultsOffAt - runStart) / 1000) },
      }),
    );
  } finally {
    const failures = await cleanup.run();
    for (const f of failures) log(`cleanup: ${f}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
