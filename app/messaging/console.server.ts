// The console's reads of messaging: the filtered messages log and one
// message's timeline (attempts + status/provider events), as plain data.
import { and, asc, desc, eq, type SQL } from "drizzle-orm";
import { z } from "zod";
import { messageAttempts, messageEvents, messages } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import { channelSchema, messageStatusSchema } from "./types";

export const messageFiltersSchema = z.object({
  channel: channelSchema.optional().catch(undefined),
  status: messageStatusSchema.optional().catch(undefined),
  provider: z.string().min(1).max(50).optional().catch(undefined),
  recipient: z.string().min(1).max(320).optional().catch(undefined),
});
export type MessageFilters = z.infer<typeof messageFiltersSchema>;

export function parseMessageFilters(params: URLSearchParams): MessageFilters {
  const raw: Record<string, string> = {};
  for (const k of ["channel", "status", "provider", "recipient"]) {
    const v = params.get(k)?.trim();
    if (v) raw[k] = v;
  }
  return messageFiltersSchema.parse(raw);
}

export async function listMessages(db: DbOrTx, f: MessageFilters, limit = 100) {
  const where: SQL[] = [];
  if (f.channel) where.push(eq(messages.channel, f.channel));
  if (f.status) where.push(eq(messages.status, f.status));
  if (f.provider) where.push(eq(messages.provider, f.provider));
  if (f.recipient) where.push(eq(messages.recipient, f.recipient.toLowerCase()));
  const rows = await db
    .select({
      id: messages.id,
      recipient: messages.recipient,
      channel: messages.channel,
      template: messages.template,
      status: messages.status,
      provider: messages.provider,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(messages.createdAt))
    .limit(limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

export async function getMessageTimeline(db: DbOrTx, id: string) {
  if (!z.uuid().safeParse(id).success) return null;
  const [message] = await db.select().from(messages).where(eq(messages.id, id));
  if (!message) return null;
  const [attempts, events] = await Promise.all([
    db.select().from(messageAttempts).where(eq(messageAttempts.messageId, id)).orderBy(asc(messageAttempts.attemptNo)),
    db.select().from(messageEvents).where(eq(messageEvents.messageId, id)).orderBy(asc(messageEvents.id)),
  ]);
  return {
    message: {
      id: message.id,
      recipient: message.recipient,
      channel: message.channel,
      template: message.template,
      status: message.status,
      statusReason: message.statusReason,
      provider: message.provider,
      providerMessageId: message.providerMessageId,
      priority: message.priority,
      critical: message.critical,
      createdAt: message.createdAt.toISOString(),
      sentAt: message.sentAt?.toISOString() ?? null,
    },
    attempts: attempts.map((a) => ({
      id: a.id,
      attemptNo: a.attemptNo,
      provider: a.provider,
      status: a.status,
      httpStatus: a.httpStatus,
      error: a.error,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.finishedAt ? a.finishedAt.getTime() - a.startedAt.getTime() : null,
    })),
    events: events.map((e) => ({
      id: e.id,
      type: e.type,
      status: e.status,
      provider: e.provider,
      source: e.source,
      detail: e.detail,
      occurredAt: e.occurredAt.toISOString(),
    })),
  };
}
