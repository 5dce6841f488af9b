// GET /metrics: refused without a token, Prometheus text that a parser reads,
// the hub's own metrics in it, and a worker process's job metrics reaching the
// web process's aggregate through metric_snapshots.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import type { Database } from "../../app/db.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { pingExecutions, queueDiagnosticPings } from "../../app/diagnostics/ping.server";
import { openTestDatabase, startTestHub, testActor, testDatabaseUrl } from "../helpers/hub";
import { freePort, spawnHub, waitFor, type HubProcess } from "../helpers/processes";

const METRICS_TOKEN = "metrics-test-token-0123456789abcdef";
let database: Database;
let hub: Awaited<ReturnType<typeof startTestHub>>;
let worker: HubProcess | null = null;

beforeAll(async () => {
  database = openTestDatabase();
  hub = await startTestHub({ config: { metricsToken: METRICS_TOKEN } });
});

afterAll(async () => {
  if (worker) expect(await worker.stop("SIGTERM")).toBe(0);
  await hub?.stop();
  await database?.close();
});

const scrape = (headers: Record<string, string> = {}) => fetch(`${hub.url}/metrics`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const family = (all: ParsedFamily[], name: string) => all.find((f) => f.name === name);

describe("/metrics", () => {
  it("refuses requests without a valid token, and tokens without the ops scope", async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape(bearer("not-the-token"))).status).toBe(401);
    expect((await scrape({ authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}` })).status).toBe(401);
    const { token: readOnly } = await createApiToken(
      database.db,
      { name: "metrics no-ops", kind: "wedsync", scopes: ["core-fields:read"] },
      testActor,
    );
    const refused = await scrape(bearer(readOnly));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await refused.text()).not.toContain("hub_");
  });

  it("accepts METRICS_TOKEN and an ops API token; the text parses and holds the hub's metrics", async () => {
    const { token: ops } = await createApiToken(database.db, { name: "metrics ops", kind: "ops", scopes: ["ops"] }, testActor);
    expect((await scrape(bearer(ops))).status).toBe(200);

    // Traffic on an Express route and a Remix route, so both kinds of route label exist.
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${hub.url}/login`)).status).toBe(200);
    await fetch(`${hub.url}/console/couples/${crypto.randomUUID()}`, { redirect: "manual" });

    const res = await scrape(bearer(METRICS_TOKEN));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const all = parsePrometheusTextFormat(text);
    const http = family(all, "hub_http_request_duration_seconds");
    expect(http?.type).toBe("HISTOGRAM");
    // The parser folds a histogram's label sets into one (prom2json's shape), so labels are read from its _count lines.
    const routes = new Set(
      [...text.matchAll(/^hub_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]),
    );
    expect(routes).toContain("/healthz");
    expect(routes).toContain("routes/login");
    // A parameterised path is labelled by its route, never by the raw URL.
    expect(routes).toContain("routes/console.couples.$coupleId");
    expect([...routes].some((r) => r?.includes("/console/couples/"))).toBe(false);
    expect(text).toMatch(
      /^hub_http_request_duration_seconds_count\{method="GET",route="routes\/login",status_class="2xx"\} [1-9]/m,
    );

    for (const name of [
      "hub_job_duration_seconds",
      "hub_provider_call_duration_seconds",
      "hub_webhooks_total",
      "hub_messages_total",
      "hub_realtime_connected_sockets",
    ]) {
      expect(family(all, name), name).toBeDefined();
    }
    // prom-client's default process metrics are there too.
    expect(family(all, "process_cpu_user_seconds_total")?.type).toBe("COUNTER");
  });

  it(
    "shows a worker process's job metrics in the web process's aggregate (through metric_snapshots)",
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      worker = spawnHub(["--role=worker"], { DATABASE_URL: testDatabaseUrl(), PORT: String(port), HOST: "127.0.0.1" });
      await waitFor(async () => worker!.output().includes("workers started"), "worker started", 60_000).catch((err: unknown) => {
        throw new Error(`${String(err)}\n--- worker output ---\n${worker!.output().slice(-3000)}`);
      });
      const [key] = await queueDiagnosticPings(database.db, 1);
      const ran = await waitFor(async () => (await pingExecutions(database.db, [key!]))[0], "the ping to run", 30_000);
      expect(ran.workerId.endsWith(":worker")).toBe(true);

      // The worker's own snapshot carries the job it ran…
      await waitFor(
        async () => {
          const res = await database.db.execute<{ n: number }>(sql`
        select count(*)::int as n from metric_snapshots
        where process_id = ${ran.workerId} and metrics::text like '%diagnostics_ping%'`);
          return res.rows[0]!.n > 0;
        },
        "a worker snapshot with the job's metrics",
        15_000,
      );

      // …and the web process (which runs no jobs) serves it in its aggregate.
      const count = await waitFor(
        async () => {
          const res = await scrape(bearer(METRICS_TOKEN));
          const text = await res.text();
          expect(family(parsePrometheusTextFormat(text), "hub_job_duration_seconds")?.type).toBe("HISTOGRAM");
          const m = /^hub_job_duration_seconds_count\{task="diagnostics_ping",outcome="success"\} (\d+)/m.exec(text);
          return m ? Number(m[1]) : null;
        },
        "diagnostics_ping in the web process's /metrics",
        15_000,
      );
      expect(count).toBeGreaterThanOrEqual(1);
      expect(hub.ctx.role).toBe("web");
    },
  );
});
