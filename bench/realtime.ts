// bench:realtime — how fast a core-field change reaches the suppliers' sockets.
//
// Hub: BENCH_LISTENERS (200) supplier sockets, connected with the client helper
// (client/realtime.ts) to the hub's Socket.IO, each in its supplier room; every
// couple is connected to 4 of them. A writer PATCHes core fields over HTTP
// (If-Match) at BENCH_RATE (50) per second for BENCH_SECONDS (20), round-robin
// over the couples. Latency: from just before each PATCH is sent to each socket
// receiving its event. The load is open-loop: a PATCH is due every 1/rate s
// whatever the earlier ones are doing; a couple's PATCHes go one at a time (each
// needs the version the previous returned), so if its previous one is still in
// flight the next waits, and that wait counts as latency ("queued" in the report).
//
// Floor, in the same run and before the hub: the same sockets/rooms layout on a
// minimal Socket.IO server relaying a bare PostgreSQL NOTIFY (one LISTEN client,
// io.to(room).emit per supplier room); a pg client sends pg_notify at the same
// rate for as long. Latency: from just before the NOTIFY query is sent to each
// socket receiving it (one client: a NOTIFY due while the previous is running
// waits, and that wait counts).
//
// Both phases start with a short unmeasured warm-up (BENCH_WARMUP_SECONDS, 2)
// so JIT and connection set-up are not counted. Everything is on loopback, in
// this one process. Report on stdout; the last line is one JSON object.
import http from "node:http";
import os from "node:os";
import pg from "pg";
import { Server as IoServer } from "socket.io";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import { connectHub, type HubClient } from "../client/realtime";
import { createApiToken } from "../app/auth/api-tokens.server";
import { systemActor } from "../app/audit/audit.server";
import type { Db } from "../app/db.server";
import { couples as couplesTable, coreFields, suppliers, supplierCouples } from "../db/schema";
import { Cleanup } from "./lib/cleanup";
import { createBenchDatabase } from "./lib/database";
import { DeliveryTracker, type DeliveryReport } from "./lib/deliveries";
import { envNumber } from "./lib/env";
import { startBenchHub } from "./lib/hub";
import { waitFor } from "./lib/net";
import { runAtRate, type RateRun } from "./lib/rate";
import { fmt2, round2, summarize, table, type Summary } from "./lib/stats";

const FANOUT = 4;
const STRAGGLER_MS = 3000;
const CONNECT_TIMEOUT_MS = 60_000;
const FLOOR_CHANNEL = "bench_floor";

interface Settings {
  seconds: number;
  rate: number;
  listeners: number;
  warmupSeconds: number;
  /** Aborted on SIGINT/SIGTERM or by the watchdog: stop and clean up. */
  signal: AbortSignal;
}

interface Couple {
  id: string;
  supplierIds: string[];
  /** Listener ids (= supplier ids) that must receive this couple's changes. */
  listeners: ReadonlySet<string>;
  /** Core-field version last confirmed by the hub. */
  version: number;
  /** The couple's PATCHes, one at a time: each needs the version the previous returned. */
  queue: Promise<void>;
  inFlight: number;
  /** Counter for the floor's notifications. */
  floorSeq: number;
}

interface Fixtures {
  couples: Couple[];
  supplierTokens: Map<string, string>;
  writerToken: string;
}

interface PhaseResult {
  deliveries: DeliveryReport;
  latency: Summary;
  run: RateRun;
  disconnects: number;
  socketErrors: string[];
  sendErrors: string[];
  /** Measured changes that waited for an earlier one to finish (the wait counts as latency). */
  queued: number;
  /** 1-minute load average when the measured run started and ended (others' work on the machine shows here). */
  load: [number, number];
  /** CPU this process used during the measured run, as a share of one core (hub, sockets and writer all live here). */
  cpuShare: number;
  /** Hub only: PATCH request -> response times of the measured changes. */
  roundTrip?: Summary;
  /** Hub only: each socket's receipt minus its PATCH's response time (negative: the event came first). */
  afterResponse?: Summary;
}

const log = (line: string) => process.stderr.write(`[bench:realtime] ${line}\n`);

// ------------------------------------------------------------------ fixtures
async function createFixtures(db: Db, listeners: number): Promise<Fixtures> {
  const supplierRows = await db
    .insert(suppliers)
    .values(Array.from({ length: listeners }, (_, i) => ({ name: `Bench supplier ${i + 1}`, kind: "photographer" })))
    .returning({ id: suppliers.id });
  const coupleRows = await db
    .insert(couplesTable)
    .values(Array.from({ length: listeners / FANOUT }, (_, i) => ({ displayName: `Bench couple ${i + 1}` })))
    .returning({ id: couplesTable.id });
  await db.insert(coreFields).values(coupleRows.map((c) => ({ coupleId: c.id, version: 1, fields: { guestCount: 100 } })));
  const couples: Couple[] = coupleRows.map((c, ci) => {
    const supplierIds = supplierRows.slice(ci * FANOUT, (ci + 1) * FANOUT).map((s) => s.id);
    return {
      id: c.id,
      supplierIds,
      listeners: new Set(supplierIds),
      version: 1,
      queue: Promise.resolve(),
      inFlight: 0,
      floorSeq: 0,
    };
  });
  await db
    .insert(supplierCouples)
    .values(couples.flatMap((c) => c.supplierIds.map((supplierId) => ({ supplierId, coupleId: c.id }))));

  const actor = systemActor("bench:realtime");
  const writer = await createApiToken(
    db,
    { name: "bench writer", kind: "wedme", scopes: ["core-fields:read", "core-fields:write"] },
    actor,
  );
  const supplierTokens = new Map<string, string>();
  for (const [i, s] of supplierRows.entries()) {
    const t = await createApiToken(
      db,
      { name: `bench supplier ${i + 1}`, kind: "supplier", supplierId: s.id, scopes: ["events:read"] },
      actor,
    );
    supplierTokens.set(s.id, t.token);
  }
  return { couples, supplierTokens, writerToken: writer.token };
}

// ------------------------------------------------------------------ shared
async function warmUpAndMeasure(
  settings: Settings,
  tracker: DeliveryTracker,
  tick: (measured: boolean) => (i: number) => Promise<void>,
  name: string,
): Promise<{ run: RateRun; load: [number, number]; cpuShare: number }> {
  if (settings.warmupSeconds > 0) {
    log(`${name}: warm-up, ${settings.warmupSeconds} s`);
    await runAtRate({ rate: settings.rate, seconds: settings.warmupSeconds, tick: tick(false), signal: settings.signal });
    await waitFor(() => tracker.warmComplete, STRAGGLER_MS, 5, settings.signal);
  }
  log(`${name}: measuring, ${settings.rate}/s for ${settings.seconds} s`);
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const run = await runAtRate({ rate: settings.rate, seconds: settings.seconds, tick: tick(true), signal: settings.signal });
  // The last send has completed; give stragglers a bounded grace period.
  await waitFor(() => tracker.complete, STRAGGLER_MS, 5, settings.signal);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
  return { run, load: [loadBefore, os.loadavg()[0]!], cpuShare };
}

function firstFew(list: string[], item: string): void {
  if (list.length < 5) list.push(item);
}

// ------------------------------------------------------------------ floor
interface FloorPayload {
  coupleId: string;
  n: number;
}

async function runFloor(databaseUrl: string, fx: Fixtures, settings: Settings, cleanup: Cleanup): Promise<PhaseResult> {
  const tracker = new DeliveryTracker();
  const socketErrors: string[] = [];
  const sendErrors: string[] = [];
  let disconnects = 0;

  const server = http.createServer();
  const io = new IoServer(server, { serveClient: false });
  io.on("connection", (socket) => {
    socket.on("join", (room: unknown, ack: unknown) => {
      if (typeof room === "string") void socket.join(room);
      if (typeof ack === "function") (ack as (ok: boolean) => void)(true);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  cleanup.add("floor Socket.IO server", () => new Promise<void>((resolve) => void io.close(() => resolve())));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  const roomsByCouple = new Map(fx.couples.map((c) => [c.id, c.supplierIds.map((s) => `supplier:${s}`)]));
  const listener = new pg.Client({ connectionString: databaseUrl });
  listener.on("error", (err) => firstFew(socketErrors, `LISTEN client: ${err.message}`));
  await listener.connect();
  cleanup.add("floor LISTEN client", () => listener.end());
  listener.on("notification", (msg) => {
    if (msg.channel !== FLOOR_CHANNEL || !msg.payload) return;
    const p = JSON.parse(msg.payload) as FloorPayload;
    for (const room of roomsByCouple.get(p.coupleId) ?? []) io.to(room).emit("e", p);
  });
  await listener.query(`LISTEN ${FLOOR_CHANNEL}`);

  const writer = new pg.Client({ connectionString: databaseUrl });
  writer.on("error", (err) => firstFew(sendErrors, `NOTIFY client: ${err.message}`));
  await writer.connect();
  cleanup.add("floor NOTIFY client", () => writer.end());

  const sockets: ClientSocket[] = [];
  cleanup.add("floor sockets", () => sockets.forEach((s) => s.close()));
  const joined = new Set<string>();
  for (const c of fx.couples) {
    for (const supplierId of c.supplierIds) {
      const room = `supplier:${supplierId}`;
      const s = ioClient(url, { transports: ["websocket"], forceNew: true });
      sockets.push(s);
      s.on("connect", () => s.emit("join", room, () => joined.add(supplierId)));
      s.on("e", (p: FloorPayload) => tracker.received(supplierId, `${p.coupleId}:${p.n}`));
      s.on("disconnect", (reason) => {
        if (reason !== "io client disconnect") disconnects++;
      });
      s.on("connect_error", (err) => firstFew(socketErrors, `connect: ${err.message}`));
    }
  }
  if (!(await waitFor(() => joined.size === settings.listeners, CONNECT_TIMEOUT_MS, 20, settings.signal)))
    throw new Error(`floor: only ${joined.size} of ${settings.listeners} sockets joined within ${CONNECT_TIMEOUT_MS / 1000} s`);
  log(`floor: ${joined.size} sockets joined`);

  let writerQueue: Promise<void> = Promise.resolve();
  let writerBusy = 0;
  let floorQueued = 0;
  const tick = (measured: boolean) => async (i: number) => {
    const c = fx.couples[i % fx.couples.length]!;
    const n = ++c.floorSeq;
    const key = `${c.id}:${n}`;
    const payload = JSON.stringify({ coupleId: c.id, n } satisfies FloorPayload);
    tracker.markSent(key, c.listeners, measured);
    // One client runs one query at a time: queue behind the previous NOTIFY (its wait counts as latency).
    if (writerBusy++ > 0 && measured) floorQueued++;
    const sent = writerQueue.then(() => writer.query("select pg_notify($1, $2)", [FLOOR_CHANNEL, payload]));
    writerQueue = sent.then(
      () => undefined,
      () => undefined,
    );
    try {
      await sent;
    } catch (err) {
      tracker.abandon(key);
      firstFew(sendErrors, `NOTIFY: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      writerBusy--;
    }
  };
  const { run, load, cpuShare } = await warmUpAndMeasure(settings, tracker, tick, "floor");
  const deliveries = tracker.report();
  return {
    deliveries,
    latency: summarize(deliveries.latencies),
    run,
    disconnects,
    socketErrors,
    sendErrors,
    queued: floorQueued,
    load,
    cpuShare,
  };
}

// ------------------------------------------------------------------ hub
interface PatchReply {
  version?: number;
  changed?: boolean;
  error?: { code?: string; message?: string; details?: { currentVersion?: number } };
}

async function runHubPhase(hubUrl: string, fx: Fixtures, settings: Settings, cleanup: Cleanup): Promise<PhaseResult> {
  const tracker = new DeliveryTracker();
  const socketErrors: string[] = [];
  const sendErrors: string[] = [];
  const roundTrips: number[] = [];
  /** Measured changes: key -> when the PATCH response arrived; and every socket receipt. */
  const respondedAt = new Map<string, number>();
  const arrivals: { key: string; at: number }[] = [];
  let disconnects = 0;
  let queued = 0;

  const clients: HubClient[] = [];
  cleanup.add("hub sockets", () => clients.forEach((c) => c.close()));
  const joined = new Set<string>();
  for (const c of fx.couples) {
    for (const supplierId of c.supplierIds) {
      const client = connectHub({
        url: hubUrl,
        token: fx.supplierTokens.get(supplierId)!,
        rooms: [{ room: `supplier:${supplierId}` }],
        socketOptions: { forceNew: true },
        onJoined: () => joined.add(supplierId),
        onError: (e) => firstFew(socketErrors, `${e.room ?? "socket"}: ${e.message}`),
        onEvent: (e) => {
          const key = `${e.event.coupleId}:${e.event.version}`;
          tracker.received(supplierId, key);
          arrivals.push({ key, at: performance.now() });
        },
      });
      client.socket.on("disconnect", (reason) => {
        if (reason !== "io client disconnect") disconnects++;
      });
      clients.push(client);
    }
  }
  if (!(await waitFor(() => joined.size === settings.listeners, CONNECT_TIMEOUT_MS, 20, settings.signal)))
    throw new Error(`hub: only ${joined.size} of ${settings.listeners} sockets joined within ${CONNECT_TIMEOUT_MS / 1000} s`);
  log(`hub: ${joined.size} sockets joined`);

  const authorization = `Bearer ${fx.writerToken}`;
  const patch = async (c: Couple, measured: boolean, scheduledAt: number) => {
    const expected = c.version;
    const next = expected + 1;
    const key = `${c.id}:${next}`;
    const init: RequestInit = {
      method: "PATCH",
      headers: { authorization, "content-type": "application/json", "if-match": `"${expected}"` },
      body: JSON.stringify({ fields: { guestCount: 100 + (next % 4900) } }),
      // Bounded: a hung request fails (and counts) instead of stalling the run.
      signal: AbortSignal.timeout(10_000),
    };
    // Latency runs from the tick that asked for this change, including any wait behind the couple's previous PATCH.
    tracker.markSent(key, c.listeners, measured, scheduledAt);
    const sentAt = performance.now();
    try {
      const res = await fetch(`${hubUrl}/api/v1/couples/${c.id}/core-fields`, init);
      const reply = (await res.json()) as PatchReply;
      const now = performance.now();
      if (measured) roundTrips.push(now - sentAt);
      if (res.status === 200 && reply.changed && reply.version === next) {
        c.version = next;
        if (measured) respondedAt.set(key, now);
      } else {
        tracker.abandon(key);
        firstFew(sendErrors, `PATCH ${res.status}: ${reply.error?.message ?? JSON.stringify(reply)}`);
        if (typeof reply.error?.details?.currentVersion === "number") c.version = reply.error.details.currentVersion;
        else if (typeof reply.version === "number") c.version = reply.version;
      }
    } catch (err) {
      tracker.abandon(key);
      firstFew(sendErrors, `PATCH: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const tick = (measured: boolean) => async (i: number) => {
    const c = fx.couples[i % fx.couples.length]!;
    const scheduledAt = performance.now();
    // One PATCH in flight per couple (each needs the version the previous returned): a tick
    // that finds the couple busy waits its turn rather than being dropped.
    if (c.inFlight++ > 0 && measured) queued++;
    const done = c.queue.then(() => patch(c, measured, scheduledAt));
    c.queue = done.finally(() => c.inFlight--);
    await c.queue;
  };
  const { run, load, cpuShare } = await warmUpAndMeasure(settings, tracker, tick, "hub");
  const deliveries = tracker.report();
  return {
    deliveries,
    latency: summarize(deliveries.latencies),
    run,
    disconnects,
    socketErrors,
    sendErrors,
    queued,
    load,
    cpuShare,
    roundTrip: summarize(roundTrips),
    afterResponse: summarize(
      arrivals.flatMap(({ key, at }) => {
        const r = respondedAt.get(key);
        return r === undefined ? [] : [at - r];
      }),
    ),
  };
}

// ------------------------------------------------------------------ report
function report(settings: Settings, where: string, hub: PhaseResult, floor: PhaseResult): string {
  const ratio = hub.latency.p99 / floor.latency.p99;
  const row = (name: string, s: Summary) => [name, s.count, fmt2(s.p50), fmt2(s.p95), fmt2(s.p99), fmt2(s.max), fmt2(s.mean)];
  const lines: string[] = [];
  lines.push(
    `bench:realtime — ${settings.listeners} supplier sockets, ${settings.listeners / FANOUT} couples x ${FANOUT} suppliers, ` +
      `${settings.rate} changes/s for ${settings.seconds} s (after ${settings.warmupSeconds} s unmeasured warm-up); ` +
      `${where}; Node ${process.version}, ${os.cpus().length} CPUs`,
  );
  const la = (p: PhaseResult) => `${p.load[0].toFixed(2)} -> ${p.load[1].toFixed(2)}`;
  lines.push(`1-min load average during the measured runs: floor ${la(floor)}, hub ${la(hub)}`);
  const cpu = (p: PhaseResult) => `${Math.round(p.cpuShare * 100)}%`;
  lines.push(`CPU used by this process (share of one core): floor ${cpu(floor)}, hub ${cpu(hub)} (PostgreSQL not included)`);
  lines.push("");
  lines.push(
    table([
      ["latency (ms)", "count", "p50", "p95", "p99", "max", "mean"],
      row("hub: PATCH sent -> socket event", hub.latency),
      row("floor: NOTIFY sent -> socket event", floor.latency),
      ...(hub.roundTrip ? [row("hub: PATCH round trip (HTTP)", hub.roundTrip)] : []),
      ...(hub.afterResponse ? [row("hub: socket event - PATCH response", hub.afterResponse)] : []),
    ]),
  );
  lines.push("");
  lines.push(`hub p99 / floor p99: ${Number.isFinite(ratio) ? ratio.toFixed(2) : "n/a"}x`);
  lines.push("");
  const acct = (p: PhaseResult) => [
    p.deliveries.changes,
    p.deliveries.abandoned,
    p.queued,
    p.deliveries.expected,
    p.deliveries.received,
    p.deliveries.lost,
    p.deliveries.duplicates,
    p.deliveries.unknown,
    p.deliveries.misrouted,
    p.disconnects,
    fmt2(p.run.maxLagMs),
  ];
  lines.push(
    table([
      [
        "deliveries",
        "changes",
        "failed",
        "queued",
        "expected",
        "received",
        "lost",
        "dupes",
        "unknown",
        "misrouted",
        "disconnects",
        "max send lag ms",
      ],
      ["hub", ...acct(hub)],
      ["floor", ...acct(floor)],
    ]),
  );
  for (const [name, p] of [
    ["hub", hub],
    ["floor", floor],
  ] as const) {
    for (const e of p.sendErrors) lines.push(`${name} send error: ${e}`);
    if (p.run.failed) lines.push(`${name}: ${p.run.failed} ticks threw, first: ${String(p.run.firstError)}`);
    for (const e of p.socketErrors) lines.push(`${name} socket error: ${e}`);
  }
  lines.push("");
  const yes = (ok: boolean) => (ok ? "met" : "NOT met");
  lines.push(
    `targets: hub p99 < 15 ms ${yes(hub.latency.p99 < 15)}; hub p99 <= 3x floor p99 ${yes(ratio <= 3)}; lost 0 ${yes(hub.deliveries.lost === 0)}`,
  );
  lines.push(
    JSON.stringify({
      bench: "realtime",
      listeners: settings.listeners,
      p50_ms: round2(hub.latency.p50),
      p99_ms: round2(hub.latency.p99),
      floor_p99_ms: round2(floor.latency.p99),
      lost: hub.deliveries.lost,
    }),
  );
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------ main
/** Run one phase with its own teardown, done before the next phase starts. */
async function phase<T>(name: string, stacks: Cleanup[], run: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  stacks.push(cleanup);
  let result: T;
  try {
    result = await run(cleanup);
  } catch (err) {
    await cleanup.run();
    throw err;
  }
  const failures = await cleanup.run();
  if (failures.length) throw new Error(`${name} teardown failed: ${failures.join("; ")}`);
  return result;
}

async function main(): Promise<number> {
  // A signal (or the watchdog) aborts: the running step stops at its next check,
  // and the catch below tears down whatever was started. A second signal is ignored.
  const stop = new AbortController();
  let abortCode = 1;
  const abort = (why: string, code: number) => {
    if (stop.signal.aborted) return log(`${why} again: still cleaning up`);
    abortCode = code;
    log(`${why}: stopping`);
    stop.abort(new Error(why));
    // If a step never reaches a check (or teardown hangs), do not linger.
    setTimeout(() => {
      log("teardown did not finish in 90 s; exiting");
      process.exit(code);
    }, 90_000).unref();
  };
  process.on("SIGINT", () => abort("interrupted", 130));
  process.on("SIGTERM", () => abort("terminated", 143));

  let settings: Settings;
  try {
    settings = {
      seconds: envNumber("BENCH_SECONDS", 20, { min: 1, max: 600 }),
      rate: envNumber("BENCH_RATE", 50, { min: 1, max: 2000 }),
      listeners: envNumber("BENCH_LISTENERS", 200, { min: FANOUT, max: 4000, integer: true }),
      warmupSeconds: envNumber("BENCH_WARMUP_SECONDS", 2, { min: 0, max: 60 }),
      signal: stop.signal,
    };
    if (settings.listeners % FANOUT !== 0)
      throw new Error(`BENCH_LISTENERS must be a multiple of ${FANOUT} (each couple has ${FANOUT} suppliers)`);
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    return 1;
  }
  // Bounded overall: a hang anywhere still ends (with teardown) rather than running forever.
  const watchdogMs = 2 * (settings.seconds + settings.warmupSeconds) * 1000 + 300_000;
  setTimeout(() => abort(`still running after ${watchdogMs / 1000} s`, 1), watchdogMs).unref();

  const stacks: Cleanup[] = [];
  const teardown = async () => {
    const failures: string[] = [];
    for (const s of stacks.reverse()) failures.push(...(await s.run()));
    stacks.length = 0;
    for (const f of failures) log(`cleanup failed: ${f}`);
    return failures.length === 0;
  };
  const base = new Cleanup();
  stacks.push(base);
  let hubResult: PhaseResult;
  let floorResult: PhaseResult;
  let where: string;
  try {
    log(process.env.DATABASE_URL ? "creating a database on DATABASE_URL" : "starting an embedded PostgreSQL");
    const database = await createBenchDatabase({ prefix: "hub_bench" });
    base.add(`database ${database.name}`, () => database.drop());
    where = `database ${database.name} on ${database.where}`;
    stop.signal.throwIfAborted();

    log("starting the hub (web role; runs the migrations)");
    const hub = await startBenchHub(database.url);
    base.add("hub", () => hub.stop());
    stop.signal.throwIfAborted();

    log(
      `creating fixtures: ${settings.listeners} suppliers, ${settings.listeners / FANOUT} couples, ${settings.listeners + 1} API tokens`,
    );
    const fx = await createFixtures(hub.ctx.db, settings.listeners);
    stop.signal.throwIfAborted();

    // One after the other, each with its own sockets, torn down before the next starts.
    floorResult = await phase("floor", stacks, (c) => runFloor(database.url, fx, settings, c));
    hubResult = await phase("hub", stacks, (c) => runHubPhase(hub.url, fx, settings, c));
  } catch (err) {
    if (!stop.signal.aborted) log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await teardown();
    return stop.signal.aborted ? abortCode : 1;
  }

  log("cleaning up");
  const clean = await teardown();
  process.stdout.write(report(settings, where, hubResult, floorResult));
  return clean ? 0 : 1;
}

const code = await main();
process.exitCode = code;
// Everything was closed; if a stray handle still holds the loop, do not hang.
setTimeout(() => {
  log("a handle was still open after cleanup; exiting anyway");
  process.exit(code);
}, 2000).unref();
