// Ops test data on a clock of their own: far-future timestamps, so windows see
// only what a test inserted, whatever other test files write meanwhile.
import { eq } from "drizzle-orm";
import type { DbOrTx } from "../../app/db.server";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { unique } from "../helpers/hub";

/** A random instant in the given year (minute-aligned), distinct per test run. */
export function farFuture(year: number): number {
  return Date.UTC(year, 0, 1) + Math.floor(Math.random() * 300 * 24 * 60) * 60_000;
}

/** An inbound webhook endpoint; each call of the returned function records one processing attempt. */
export async function inboundEndpoint(db: DbOrTx) {
  const [endpoint] = await db
    .insert(webhookEndpoints)
    .values({ direction: "in", name: unique("ops-test-inbound") })
    .returning();
  const id = endpoint!.id;
  return {
    id,
    async attempt(at: Date, durationMs: number): Promise<void> {
      const [delivery] = await db
        .insert(webhookDeliveries)
        .values({
          endpointId: id,
          externalId: unique("d"),
          status: "processed",
          attempts: 1,
          createdAt: at,
          verification: { scheme: "standard-webhooks", ok: true },
        })
        .returning();
      await db
        .insert(webhookAttempts)
        .values({ deliveryId: delivery!.id, attempt: 1, startedAt: at, durationMs, outcome: "succeeded" });
    },
    async remove(): Promise<void> {
      await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    },
  };
}
