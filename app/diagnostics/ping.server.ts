// A diagnostic job: ops (and tests) queue it to prove the queue runs each
// job once across all worker processes sharing the database.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { jobExecutions } from "../../db/schema";
import { enqueueJob } from "../jobs/enqueue.server";

export async function queueDiagnosticPings(db: DbOrTx, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, () => `ping:${randomUUID()}`);
  for (const key of keys) await enqueueJob(db, "diagnostics_ping", { key });
  return keys;
}

export async function recordPing(db: DbOrTx, key: string, workerId: string): Promise<void> {
  await db.insert(jobExecutions).values({ task: "diagnostics_ping", jobKey: key, workerId });
}

export async function pingExecutions(db: DbOrTx, keys: string[]): Promise<{ jobKey: string; workerId: string }[]> {
  if (keys.length === 0) return [];
  const res = await db.execute<{ job_key: string; worker_id: string }>(
    sql`select job_key, worker_id from job_executions where job_key = any(${keys}::text[]) order by id`,
  );
  return res.rows.map((r) => ({ jobKey: r.job_key, workerId: r.worker_id }));
}
