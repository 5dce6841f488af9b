// One delivery job per (endpoint, couple). Its job key coalesces bursts, and its
// graphile-worker named queue makes jobs of one (endpoint, couple) run strictly
// one at a time, so a couple's deliveries leave in seq order while other
// couples' queues run in parallel.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../../db.server";
import { enqueueJob } from "../../jobs/enqueue.server";
import { taskPayloadSchemas } from "../../jobs/catalog";
import { jobPriorityFor } from "../../wedding-day/mode.server";

const NO_COUPLE = "none";

export const deliveryQueueName = (endpointId: string, coupleId: string | null) => `whout:${endpointId}:${coupleId ?? NO_COUPLE}`;

export async function enqueueDeliveryQueue(
  db: DbOrTx,
  endpointId: string,
  coupleId: string | null,
  opts: { runAt?: Date; now?: boolean } = {},
): Promise<void> {
  const key = deliveryQueueName(endpointId, coupleId);
  await enqueueJob(
    db,
    "deliver_webhooks",
    { endpointId, coupleId },
    {
      jobKey: key,
      queueName: key,
      // A new event must not pull forward a retry that is waiting out its backoff;
      // a replay (now) or the job's own reschedule (runAt) sets the time.
      jobKeyMode: opts.now || opts.runAt ? "replace" : "preserve_run_at",
      runAt: opts.runAt,
      // Failures are retried on our own schedule; graphile-worker only retries crashes (database errors).
      maxAttempts: 10,
      forCouple: coupleId,
    },
  );
}

/**
 * Fan-out's enqueue: one add_jobs call for every endpoint an event reached (one
 * round trip inside the writer's transaction instead of one per endpoint), with
 * the same key, queue and preserve_run_at semantics as enqueueDeliveryQueue.
 */
export async function enqueueDeliveryQueues(db: DbOrTx, endpointIds: string[], coupleId: string | null): Promise<void> {
  if (endpointIds.length === 0) return;
  const priority = await jobPriorityFor(db, coupleId);
  const specs = endpointIds.map((endpointId) => {
    const payload = taskPayloadSchemas.deliver_webhooks.parse({ endpointId, coupleId });
    const key = deliveryQueueName(endpointId, coupleId);
    return { payload: JSON.stringify(payload), key };
  });
  await db.execute(sql`select graphile_worker.add_jobs(
    array(select row('deliver_webhooks', s.payload::json, s.key, null::timestamptz, 10, s.key, ${priority}::int, null::text[])::graphile_worker.job_spec
          from json_to_recordset(${JSON.stringify(specs)}::json) as s(payload text, key text)),
    true)`);
}
