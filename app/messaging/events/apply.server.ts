// A verified delivery event onto its message: one timeline row keyed by the
// provider's event id (a replay inserts nothing and changes nothing), then the
// status change it implies, and for permanent bounces and complaints a
// suppression so the next send to the address is suppressed. One transaction.
import { and, eq, or, type SQL } from "drizzle-orm";
import { messageAttempts, messages, suppressions } from "../../../db/schema";
import type { Db } from "../../db.server";
import { addTimeline, setStatus } from "../timeline.server";
import type { DeliveryEvent, MessageStatus } from "../types";

export type ApplyOutcome = "applied" | "replayed" | "unknown_message";

/** How far along a status is: an event never moves a message backwards (a late "delivered" does not undo "bounced"). */
const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  failed: 3,
  delivered: 3,
  bounced: 4,
  complained: 5,
  suppressed: 6,
};

function statusFor(e: DeliveryEvent): MessageStatus | null {
  if (e.type === "delivered") return "delivered";
  if (e.type === "bounced") return e.bounceKind === "transient" ? null : "bounced";
  if (e.type === "complained") return "complained";
  if (e.type === "failed") return "failed";
  return null;
}

async function findMessage(db: Db, e: DeliveryEvent) {
  const where: SQL[] = [];
  if (e.providerMessageId) {
    where.push(and(eq(messages.provider, e.provider), eq(messages.providerMessageId, e.providerMessageId))!);
    // The message may have been taken by an attempt whose id is not on the message row yet.
    const [attempt] = await db
      .select({ messageId: messageAttempts.messageId })
      .from(messageAttempts)
      .where(and(eq(messageAttempts.provider, e.provider), eq(messageAttempts.providerMessageId, e.providerMessageId)))
      .limit(1);
    if (attempt) where.push(eq(messages.id, attempt.messageId));
  }
  if (e.idempotencyKey) where.push(eq(messages.idempotencyKey, e.idempotencyKey));
  if (!where.length) return null;
  const [row] = await db
    .select()
    .from(messages)
    .where(where.length === 1 ? where[0] : or(...where))
    .limit(1);
  return row ?? null;
}

export async function applyDeliveryEvent(db: Db, e: DeliveryEvent): Promise<ApplyOutcome> {
  const message = await findMessage(db, e);
  if (!message) return "unknown_message";
  return db.transaction(async (tx) => {
    const eventId = await addTimeline(tx, {
      messageId: message.id,
      type: `provider.${e.type}`,
      provider: e.provider,
      source: "webhook",
      externalId: e.externalId,
      occurredAt: e.occurredAt,
      detail: { ...e.detail, ...(e.bounceKind ? { bounceKind: e.bounceKind } : {}) },
    });
    if (eventId === null) return "replayed";
    // Lock the row so two events for one message settle in order.
    const [current] = await tx.select().from(messages).where(eq(messages.id, message.id)).for("update");
    const next = statusFor(e);
    if (current && next && RANK[next] > RANK[current.status])
      await setStatus(tx, message.id, next, {
        reason: e.type === "delivered" ? null : `${e.provider}: ${e.type}${e.bounceKind ? ` (${e.bounceKind})` : ""}`,
        detail: { source: "webhook", externalId: e.externalId },
      });
    if (message.channel === "email" && (next === "bounced" || next === "complained"))
      await tx
        .insert(suppressions)
        .values({
          channel: "email",
          address: message.recipient,
          reason: next === "bounced" ? "bounce" : "complaint",
          provider: e.provider,
          messageId: message.id,
          sourceEventId: eventId,
          detail: typeof e.detail.reason === "string" ? e.detail.reason.slice(0, 500) : null,
        })
        .onConflictDoNothing();
    return "applied";
  });
}
