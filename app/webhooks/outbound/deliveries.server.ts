// Reading deliveries and their attempts, and manual replay (one delivery, or
// everything since a time). A replay sends the same delivery again — same
// webhook-id, so receivers that deduplicate still can — with a fresh retry
// schedule, in the couple's seq order. Every replay is audited.
import { and, desc, eq, gte, inArray } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../../db.server";
import type { Actor } from "../../audit/audit.server";
import { recordAudit } from "../../audit/audit.server";
import { NotFoundError, ValidationError } from "../../errors";
import { webhookAttempts, webhookDeliveries } from "../../../db/schema";
import { loadEndpoint, type EndpointOwner } from "./endpoints.server";
import { enqueueDeliveryQueue } from "./queue.server";

export interface DeliveryView {
  id: string;
  eventId: number | null;
  eventType: string | null;
  coupleId: string | null;
  seq: number | null;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  createdAt: string;
}

export interface AttemptView {
  attempt: number;
  startedAt: string;
  durationMs: number | null;
  httpStatus: number | null;
  outcome: string;
  error: string | null;
  responseExcerpt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function view(d: typeof webhookDeliveries.$inferSelect): DeliveryView {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    coupleId: d.coupleId,
    seq: d.seq,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
  };
}

export const deliveryStatusSchema = z.enum(["pending", "delivered", "failed"]);

export async function listDeliveries(
  db: DbOrTx,
  owner: EndpointOwner,
  endpointId: string,
  opts: { limit?: number; status?: z.infer<typeof deliveryStatusSchema> } = {},
): Promise<(DeliveryView & { recentAttempts: AttemptView[] })[]> {
  await loadEndpoint(db, owner, endpointId);
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), opts.status ? eq(webhookDeliveries.status, opts.status) : undefined))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.seq))
    .limit(Math.min(opts.limit ?? 50, 500));
  const attempts = rows.length
    ? await db
        .select()
        .from(webhookAttempts)
        .where(
          inArray(
            webhookAttempts.deliveryId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(desc(webhookAttempts.id))
    : [];
  return rows.map((r) => ({
    ...view(r),
    recentAttempts: attempts
      .filter((a) => a.deliveryId === r.id)
      .slice(0, 10)
      .map((a) => ({
        attempt: a.attempt,
        startedAt: a.startedAt.toISOString(),
        durationMs: a.durationMs,
        httpStatus: a.httpStatus,
        outcome: a.outcome,
        error: a.error,
        responseExcerpt: a.responseExcerpt,
      })),
  }));
}

export const replayInputSchema = z
  .object({
    deliveryId: z.uuid().optional(),
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((v) => (v.deliveryId === undefined) !== (v.since === undefined), {
    message: "give either deliveryId or since",
    path: ["deliveryId"],
  });

/** Replay one delivery (deliveryId) or every delivery created since a time; returns how many were queued again. */
export async function replayDeliveries(
  db: DbOrTx,
  owner: EndpointOwner,
  endpointId: string,
  raw: z.input<typeof replayInputSchema>,
  actor: Actor,
): Promise<{ replayed: number }> {
  const parsed = replayInputSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError("Invalid replay", { deliveryId: parsed.error.issues.map((i) => i.message) });
  const input = parsed.data;
  return db.transaction(async (tx) => {
    await loadEndpoint(tx, owner, endpointId);
    const rows = await tx
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpointId),
          input.deliveryId
            ? eq(webhookDeliveries.id, input.deliveryId)
            : gte(webhookDeliveries.createdAt, new Date(input.since!)),
        ),
      )
      .for("update");
    if (input.deliveryId && rows.length === 0) throw new NotFoundError("No such delivery");
    const couples = new Set<string | null>();
    for (const r of rows) {
      await tx
        .update(webhookDeliveries)
        .set({
          status: "pending",
          nextAttemptAt: null,
          result: { ...(r.result ?? {}), scheduleBase: r.attempts, replayedAt: new Date().toISOString() },
          updatedAt: new Date(),
        })
        .where(eq(webhookDeliveries.id, r.id));
      couples.add(r.coupleId);
    }
    for (const c of couples) await enqueueDeliveryQueue(tx, endpointId, c, { now: true });
    await recordAudit(tx, actor, {
      action: "webhook_delivery.replayed",
      entityType: "webhook_endpoint",
      entityId: endpointId,
      after: input.deliveryId ? { deliveryId: input.deliveryId } : { since: input.since, count: rows.length },
    });
    return { replayed: rows.length };
  });
}
