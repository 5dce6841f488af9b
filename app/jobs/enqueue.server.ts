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

/** One job of a batch (see enqueueJobs). */
export interface BatchJob<T extends TaskName> {
  payload: TaskPayloads[T];
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** Before the wedding-day boost of `forCouple`, if any. */
  priority?: number;
  queueName?: string;
}

/**
 * Many jobs of one task in ONE graphile_worker.add_jobs call (add_job is that
 * function with one spec, so each job behaves exactly as enqueueJob's would),
 * in the caller's transaction. A change fanning out to hundreds of vendors
 * costs one round trip, and `forCouple` decides the wedding-day boost once for
 * the whole batch instead of once per job.
 */
export async function enqueueJobs<T extends TaskName>(
  db: DbOrTx,
  task: T,
  jobs: readonly BatchJob<T>[],
  opts: { jobKeyMode?: "replace" | "preserve_run_at"; forCouple?: string | null } = {},
): Promise<void> {
  if (jobs.length === 0) return;
  const boost = opts.forCouple ? await jobPriorityFor(db, opts.forCouple, 0) : 0;
  const specs = jobs.map((j) => ({
    payload: JSON.stringify(taskPayloadSchemas[task].parse(j.payload)),
    queue: j.queueName ?? null,
    runAt: j.runAt?.toISOString() ?? null,
    maxAttempts: j.maxAttempts ?? null,
    key: j.jobKey ?? null,
    priority: (j.priority ?? 0) + boost,
  }));
  await db.execute(sql`select graphile_worker.add_jobs(
    array(select row(${task}::text, s.payload::json, s.queue, s."runAt"::timestamptz, s."maxAttempts"::smallint, s.key,
                     s.priority::smallint, null::text[])::graphile_worker.job_spec
          from json_to_recordset(${JSON.stringify(specs)}::json)
            as s(payload text, queue text, "runAt" text, "maxAttempts" int, key text, priority int)),
    ${opts.jobKeyMode === "preserve_run_at"}::boolean)`);
}
