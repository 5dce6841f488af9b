// The scale-out shape: one web process and two worker processes sharing one
// PostgreSQL. A job queued through the web runs exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { pingExecutions } from "../../app/diagnostics/ping.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { openTestDatabase, testActor, testDatabaseUrl } from "../helpers/hub";
import { freePort, spawnHub, waitFor, type HubProcess } from "../helpers/processes";

let database: Database;
const procs: HubProcess[] = [];
let webUrl = "";

beforeAll(async () => {
  database = openTestDatabase();
  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  const env = { DATABASE_URL: testDatabaseUrl(), PORT: String(port), HOST: "127.0.0.1" };
  procs.push(spawnHub(["--role=web"], env));
  procs.push(spawnHub(["--role=worker"], { ...env, WORKER_CONCURRENCY: "3" }));
  procs.push(spawnHub(["--role=worker"], { ...env, WORKER_CONCURRENCY: "3" }));
  await waitFor(async () => (await fetch(`${webUrl}/readyz`)).ok, "web /readyz", 60_000);
  // Both worker processes have registered with graphile-worker once they log "workers started".
  await waitFor(async () => procs.slice(1).every((p) => p.output().includes("workers started")), "two workers", 60_000);
});

afterAll(async () => {
  const codes = await Promise.all(procs.map((p) => p.stop("SIGTERM")));
  await database?.close();
  // Graceful shutdown exits 0.
  expect(codes).toEqual([0, 0, 0]);
});

describe("web + two workers on one database", () => {
  it("runs each job queued from the web exactly once", async () => {
    const { token } = await createApiToken(database.db, { name: "multi-process test", kind: "ops", scopes: ["ops"] }, testActor);
    const res = await fetch(`${webUrl}/api/v1/diagnostics/ping`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ count: 60 }),
    });
    expect(res.status).toBe(202);
    const { keys } = (await res.json()) as { keys: string[] };
    expect(keys).toHaveLength(60);

    const executions = () => pingExecutions(database.db, keys);
    await waitFor(async () => (await executions()).length >= 60, "60 job executions").catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- worker output ---\n${procs.map((p) => p.output().slice(-3000)).join("\n---\n")}`);
    });
    // Give any would-be duplicate time to show up before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const rows = await executions();
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.jobKey)).size).toBe(60);
    // Only worker processes ran them, never the web process.
    expect(rows.every((r) => r.workerId.endsWith(":worker"))).toBe(true);
    const left = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from graphile_worker._private_jobs where payload->>'key' = any(${sql.param(keys)}::text[])`,
    );
    expect(left.rows[0]!.n).toBe(0);
  });

  it("reports readiness per role: the web process has no workers to check", async () => {
    const body = (await (await fetch(`${webUrl}/readyz`)).json()) as { role: string; checks: Record<string, { ok: boolean }> };
    expect(body.role).toBe("web");
    expect(body.checks.database?.ok).toBe(true);
    expect(body.checks.migrations?.ok).toBe(true);
    expect(body.checks.workers).toBeUndefined();
  });
});
