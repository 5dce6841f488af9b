// One delivery job per (endpoint, couple). Its job key coalesces bursts, and its
// graphile-worker named queue makes jobs of one (endpoint, couple) run strictly
// one at a time, so a couple's deliveries leave in seq order while other
// couples' queues run in parallel.
import type { DbOrTx } from "../../db.server";
import { enqueueJob } from "../../jobs/enqueue.server";

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
    },
  );
}
