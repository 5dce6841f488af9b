// SendGrid's signed Event Webhook: ECDSA (P-256, SHA-256) over
// timestamp + raw body, checked with the verification key SendGrid shows
// (base64 DER SPKI). The timestamp must be recent, so a captured request
// cannot be replayed later; sg_event_id is each event's id.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { z } from "zod";
import type { DeliveryEvent, DeliveryEventType } from "../types";
import type { VerifyResult } from "./resend.server";

/** How old a signed timestamp may be (SendGrid retries within its own window; this is about capture-and-replay). */
export const SENDGRID_TOLERANCE_S = 300;
export const SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature";
export const TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp";

const eventSchema = z
  .object({
    email: z.string().max(320).optional(),
    timestamp: z.number().int().optional(),
    event: z.string().min(1).max(50),
    sg_event_id: z.string().min(1).max(200),
    sg_message_id: z.string().max(300).optional(),
    hub_key: z.string().max(300).optional(),
    hub_message: z.string().max(100).optional(),
    type: z.string().max(50).optional(),
    reason: z.string().max(2000).optional(),
    status: z.string().max(50).optional(),
  })
  .loose();
const bodySchema = z.array(eventSchema).max(10_000);

const TYPES: Record<string, DeliveryEventType> = {
  processed: "sent",
  delivered: "delivered",
  deferred: "deferred",
  bounce: "bounced",
  blocked: "bounced",
  dropped: "failed",
  spamreport: "complained",
  open: "opened",
  click: "clicked",
  unsubscribe: "unsubscribed",
  group_unsubscribe: "unsubscribed",
};

const keys = new Map<string, KeyObject>();
function publicKey(b64: string): KeyObject {
  let key = keys.get(b64);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(b64, "base64"), format: "der", type: "spki" });
    keys.set(b64, key);
  }
  return key;
}

export function verifySendGridEvents(
  publicKeyB64: string | undefined,
  rawBody: string,
  headers: Headers,
  now: Date = new Date(),
): VerifyResult<DeliveryEvent[]> {
  if (!publicKeyB64) return { ok: false, reason: "no verification key configured" };
  const signature = headers.get(SIGNATURE_HEADER);
  const timestamp = headers.get(TIMESTAMP_HEADER);
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "missing signature headers" };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SENDGRID_TOLERANCE_S)
    return { ok: false, reason: "timestamp outside tolerance" };
  let valid = false;
  try {
    valid = verify("sha256", Buffer.from(timestamp + rawBody), publicKey(publicKeyB64), Buffer.from(signature, "base64"));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "invalid signature" };
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: "unexpected payload" };
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "unexpected payload" };
  const events: DeliveryEvent[] = [];
  for (const e of parsed.data) {
    const type = TYPES[e.event];
    if (!type) continue;
    events.push({
      provider: "sendgrid",
      externalId: e.sg_event_id,
      type,
      // sg_message_id is the X-Message-Id the send returned plus ".<filter id>".
      providerMessageId: e.sg_message_id?.split(".")[0],
      idempotencyKey: e.hub_key,
      recipient: e.email,
      // A "blocked" bounce is temporary; "bounce" is SendGrid's hard bounce.
      ...(type === "bounced" ? { bounceKind: e.event === "blocked" || e.type === "blocked" ? "transient" : "permanent" } : {}),
      occurredAt: e.timestamp ? new Date(e.timestamp * 1000) : new Date(),
      detail: { event: e.event, ...(e.reason ? { reason: e.reason } : {}), ...(e.status ? { smtpStatus: e.status } : {}) },
    });
  }
  return { ok: true, value: events };
}
