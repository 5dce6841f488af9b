// Every status change and attempt outcome lands on the message's timeline
// (message_events), written in the same statement batch as the change itself.
import { eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { messageEvents, messages } from "../../db/schema";
import type { MessageStatus } from "./types";

export interface TimelineEntry {
  messageId: string;
  type: string;
  status?: MessageStatus;
  provider?: string | null;
  attemptId?: string | null;
  source?: "hub" | "webhook";
  externalId?: string;
  detail?: Record<string, unknown>;
  occurredAt?: Date;
}

export async function addTimeline(db: DbOrTx, e: TimelineEntry): Promise<number | null> {
  const rows = await db
    .insert(messageEvents)
    .values({
      messageId: e.messageId,
      type: e.type,
      status: e.status ?? null,
      provider: e.provider ?? null,
      attemptId: e.attemptId ?? null,
      source: e.source ?? "hub",
      externalId: e.externalId ?? null,
      detail: e.detail ?? {},
      occurredAt: e.occurredAt ?? new Date(),
    })
    .onConflictDoNothing()
    .returning({ id: messageEvents.id });
  return rows[0]?.id ?? null;
}

/** Set a message's status and record the change on its timeline. */
export async function setStatus(
  db: DbOrTx,
  messageId: string,
  status: MessageStatus,
  patch: {
    reason?: string | null;
    provider?: string | null;
    providerMessageId?: string | null;
    attemptId?: string | null;
    detail?: Record<string, unknown>;
  } = {},
): Promise<void> {
  await db
    .update(messages)
    .set({
      status,
      ...(patch.reason !== undefined ? { statusReason: patch.reason } : {}),
      ...(patch.provider !== undefined ? { provider: patch.provider } : {}),
      ...(patch.providerMessageId !== undefined ? { providerMessageId: patch.providerMessageId } : {}),
      ...(status === "sent" ? { sentAt: sql`coalesce(${messages.sentAt}, now())` } : {}),
      updatedAt: new Date(),
    })
    .where(eq(messages.id, messageId));
  await addTimeline(db, {
    messageId,
    type: "status",
    status,
    provider: patch.provider ?? null,
    attemptId: patch.attemptId ?? null,
    detail: { ...(patch.reason ? { reason: patch.reason } : {}), ...patch.detail },
  });
}
