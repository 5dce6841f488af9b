// Resend delivery webhooks: Svix-signed (svix-id, svix-timestamp within 5 min,
// svix-signature over id.timestamp.body), verified with the svix library
// before anything is parsed. svix-id is the event's id (the replay guard).
import { Webhook, WebhookVerificationError } from "svix";
import { z } from "zod";
import type { DeliveryEvent, DeliveryEventType } from "../types";

const payloadSchema = z.object({
  type: z.string().min(1).max(100),
  created_at: z.string().optional(),
  data: z.object({
    email_id: z.string().min(1).max(200),
    to: z.union([z.string(), z.array(z.string())]).optional(),
    bounce: z.object({ type: z.string().optional(), subType: z.string().optional(), message: z.string().optional() }).optional(),
  }),
});

const TYPES: Record<string, DeliveryEventType> = {
  "email.sent": "sent",
  "email.delivered": "delivered",
  "email.delivery_delayed": "deferred",
  "email.bounced": "bounced",
  "email.complained": "complained",
  "email.opened": "opened",
  "email.clicked": "clicked",
  "email.failed": "failed",
};

export type VerifyResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function verifyResendEvent(
  secret: string | undefined,
  rawBody: string,
  headers: Headers,
): VerifyResult<DeliveryEvent | null> {
  if (!secret) return { ok: false, reason: "no webhook secret configured" };
  const svixHeaders = {
    "svix-id": headers.get("svix-id") ?? "",
    "svix-timestamp": headers.get("svix-timestamp") ?? "",
    "svix-signature": headers.get("svix-signature") ?? "",
  };
  let verified: unknown;
  try {
    verified = new Webhook(secret).verify(rawBody, svixHeaders);
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { ok: false, reason: err.message };
    return { ok: false, reason: "invalid signature" };
  }
  const parsed = payloadSchema.safeParse(verified);
  if (!parsed.success) return { ok: false, reason: "unexpected payload" };
  const p = parsed.data;
  const type = TYPES[p.type];
  if (!type) return { ok: true, value: null };
  const to = p.data.to;
  // Resend's email.bounced is a hard bounce unless it says otherwise.
  const bounceType = p.data.bounce?.type?.toLowerCase();
  return {
    ok: true,
    value: {
      provider: "resend",
      externalId: svixHeaders["svix-id"],
      type,
      providerMessageId: p.data.email_id,
      recipient: Array.isArray(to) ? to[0] : to,
      ...(type === "bounced" ? { bounceKind: bounceType === "transient" ? "transient" : "permanent" } : {}),
      occurredAt: p.created_at ? new Date(p.created_at) : new Date(),
      detail: {
        event: p.type,
        ...(p.data.bounce ? { reason: p.data.bounce.message, bounceType: p.data.bounce.type } : {}),
      },
    },
  };
}
