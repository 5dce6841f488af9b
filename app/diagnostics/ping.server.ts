// A diagnostic job: ops (and tests) queue it to prove the queue runs each
// job once across all worker processes sharing the database.
import { randomUUID } from "node:crypto";
import { inArray } from "drizzle-orm";
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
  return db
    .select({ jobKey: jobExecutions.jobKey, workerId: jobExecutions.workerId })
    .from(jobExecutions)
    .where(inArray(jobExecutions.jobKey, keys))
    .orderBy(jobExecutions.id);
}
