// Enqueue graphile-worker jobs with SQL so they commit in the same
// transaction as the write that causes them (the outbox rule).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import type { TaskName, TaskPayloads } from "./catalog";
import { taskPayloadSchemas } from "./catalog";
import { jobPriorityFor } from "../wedding-day/mode.server";

export interface EnqueueOptions {
  /** A job key makes a second enqueue replace (or, with mode "preserve_run_at", keep) the pending one. */
  jobKey?: string;
  jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
  runAt?: Date;
  maxAttempts?: number;
  /** Lower runs first (graphile-worker's convention). */
  priority?: number;
  queueName?: string;
  /** The couple the job works for: while it is in wedding-day mode the job runs ahead of routine work. */
  forCouple?: string | null;
}

export async function enqueueJob<T extends TaskName>(
  db: DbOrTx,
  task: T,
  payload: TaskPayloads[T],
  opts: EnqueueOptions = {},
): Promise<void> {
  // Validate on the way in as well as on the way out: a bad payload fails the caller, not a worker at 3 am.
  const parsed = taskPayloadSchemas[task].parse(payload);
  const priority = opts.forCouple ? await jobPriorityFor(db, opts.forCouple, opts.priority ?? 0) : opts.priority;
  await db.execute(sql`select graphile_worker.add_job(
    identifier => ${task}::text,
    payload => ${JSON.stringify(parsed)}::json,
    queue_name => ${opts.queueName ?? null}::text,
    run_at => ${opts.runAt?.toISOString() ?? null}::timestamptz,
    max_attempts => ${opts.maxAttempts ?? null}::int,
    job_key => ${opts.jobKey ?? null}::text,
    priority => ${priority ?? null}::int,
    job_key_mode => ${opts.jobKeyMode ?? null}::text
  )`);
}
