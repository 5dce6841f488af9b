// sendMessage: the one way into messaging. It stores one message per
// recipient and queues its deliver_message job in the caller's transaction
// (a committed change always has its messages, a rolled-back one has none).
// The caller's idempotency key makes a repeat call return the same messages;
// nothing is ever queued twice for the same key.
import crypto from "node:crypto";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import { messages, recipientPreferences, suppressions } from "../../db/schema";
import { enqueueJob } from "../jobs/enqueue.server";
import { parseTemplateData } from "./templates/render.server";
import { decideDelivery, preferencesFromRow } from "./preferences.server";
import { normalizeRecipient } from "./recipients";
import { addTimeline } from "./timeline.server";
import { channelSchema } from "./types";

export const sendMessageInputSchema = z.object({
  recipients: z.array(z.string().min(1).max(320)).min(1).max(500),
  channel: channelSchema,
  template: z.string().min(1).max(100),
  data: z.record(z.string(), z.unknown()),
  /** 0 normal … 10 most urgent; urgent messages run first. */
  priority: z.number().int().min(0).max(10).default(0),
  idempotencyKey: z.string().min(1).max(300),
  /** Wedding-day critical: overrides quiet hours and muted kinds (never suppressions). */
  critical: z.boolean().default(false),
  coupleId: z.uuid().optional(),
  supplierId: z.uuid().optional(),
  /** ISO 3166 country for SMS numbers written nationally ("07700 900123" with "GB"). */
  phoneRegion: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be a two-letter country code such as GB")
    .optional(),
  /** Wait before sending (coalescing windows). */
  delayMs: z.number().int().min(0).max(86_400_000).default(0),
});
export type SendMessageInput = z.input<typeof sendMessageInputSchema>;
export type MessageRow = typeof messages.$inferSelect;

export const deliverJobKey = (messageId: string) => `message:${messageId}`;

/** The key providers see for one recipient of one send; bounded and stable. */
export function messageKey(requestKey: string, channel: string, recipient: string): string {
  const readable = `${requestKey}/${channel}/${recipient}`;
  return readable.length <= 200 ? readable : `h:${crypto.createHash("sha256").update(readable).digest("hex")}`;
}

export async function sendMessage(db: DbOrTx, raw: SendMessageInput): Promise<{ messages: MessageRow[]; created: number }> {
  const input = sendMessageInputSchema.parse(raw);
  const data = parseTemplateData(input.template, input.data);
  const recipients = [...new Set(input.recipients.map((r) => normalizeRecipient(input.channel, r, input.phoneRegion)))];
  return db.transaction(async (tx) => {
    const [suppressed, prefs] = await Promise.all([
      tx
        .select()
        .from(suppressions)
        .where(
          and(eq(suppressions.channel, input.channel), inArray(suppressions.address, recipients), isNull(suppressions.liftedAt)),
        ),
      tx.select().from(recipientPreferences).where(inArray(recipientPreferences.recipient, recipients)),
    ]);
    const suppressedBy = new Map(suppressed.map((s) => [s.address, s]));
    const prefBy = new Map(prefs.map((p) => [p.recipient, p]));
    const out: MessageRow[] = [];
    let created = 0;
    const now = new Date();
    for (const recipient of recipients) {
      const key = messageKey(input.idempotencyKey, input.channel, recipient);
      const s = suppressedBy.get(recipient);
      const pref = prefBy.get(recipient);
      // Suppressions (bounces, STOP) bind even critical messages; preferences follow decideDelivery's one rule.
      const decision = s
        ? ({ action: "skip", reason: `suppressed: ${s.reason}` } as const)
        : decideDelivery(
            pref ? preferencesFromRow(pref) : null,
            { channel: input.channel, kind: input.template, critical: input.critical },
            now,
          );
      const status: "queued" | "suppressed" = decision.action === "skip" ? "suppressed" : "queued";
      const reason = decision.action === "send" ? null : decision.reason;
      const deferUntil = decision.action === "defer" ? decision.until.getTime() : 0;
      const notBefore = new Date(Math.max(now.getTime() + input.delayMs, deferUntil));
      const [row] = await tx
        .insert(messages)
        .values({
          channel: input.channel,
          recipient,
          template: input.template,
          data,
          priority: input.priority,
          idempotencyKey: key,
          requestKey: input.idempotencyKey,
          status,
          statusReason: reason,
          critical: input.critical,
          notBefore: notBefore.getTime() > now.getTime() ? notBefore : null,
          coupleId: input.coupleId ?? null,
          supplierId: input.supplierId ?? null,
        })
        .onConflictDoNothing({ target: messages.idempotencyKey })
        .returning();
      if (!row) {
        // A repeat of a send that already happened: return what is there, queue nothing.
        const [existing] = await tx.select().from(messages).where(eq(messages.idempotencyKey, key));
        if (existing) out.push(existing);
        continue;
      }
      created++;
      out.push(row);
      await addTimeline(tx, {
        messageId: row.id,
        type: "status",
        status,
        detail: { ...(reason ? { reason } : {}), ...(row.notBefore ? { notBefore: row.notBefore.toISOString() } : {}) },
      });
      if (status === "queued")
        await enqueueJob(
          tx,
          "deliver_message",
          { messageId: row.id },
          {
            jobKey: deliverJobKey(row.id),
            runAt: row.notBefore ?? undefined,
            priority: -input.priority,
            forCouple: input.coupleId,
            // The engine reschedules itself while providers are down; graphile's retries only cover crashes.
            maxAttempts: 25,
          },
        );
    }
    return { messages: out, created };
  });
}
