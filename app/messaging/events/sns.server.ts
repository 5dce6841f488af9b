// SES events through SNS: the SNS envelope's signature (SignatureVersion 1 =
// SHA1withRSA, 2 = SHA256withRSA) over SNS's canonical string, checked with
// the certificate at SigningCertURL. That URL (and a SubscribeURL) must be on
// a host the policy allows, or nothing is fetched. The SNS MessageId is the
// event's id (the replay guard).
import { X509Certificate, createVerify } from "node:crypto";
import { z } from "zod";
import type { DeliveryEvent, DeliveryEventType } from "../types";
import type { VerifyResult } from "./resend.server";

const envelopeSchema = z.object({
  Type: z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(500),
  Message: z.string().max(256 * 1024),
  Timestamp: z.string().min(1).max(50),
  SignatureVersion: z.enum(["1", "2"]),
  Signature: z.string().min(1).max(4096),
  SigningCertURL: z.string().min(1).max(2048),
  Subject: z.string().max(200).optional(),
  Token: z.string().max(2048).optional(),
  SubscribeURL: z.string().max(4096).optional(),
  UnsubscribeURL: z.string().max(4096).optional(),
});
export type SnsEnvelope = z.infer<typeof envelopeSchema>;

export interface SnsPolicy {
  hostPattern: RegExp;
  allowHttp: boolean;
  /** Accepted topics; empty = any. */
  topicArns: string[];
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** SNS's canonical string-to-sign (keys in this order; absent optional keys are left out). */
export function snsStringToSign(m: SnsEnvelope): string {
  const keys: (keyof SnsEnvelope)[] =
    m.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return keys
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k}\n${m[k]}\n`)
    .join("");
}

/** Is this URL one the hub may fetch for SNS (cert or subscription confirmation)? */
export function allowedSnsUrl(raw: string, policy: SnsPolicy, kind: "cert" | "subscribe"): URL | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) return null;
  if (url.username || url.password || !policy.hostPattern.test(url.hostname)) return null;
  if (kind === "cert" && !url.pathname.endsWith(".pem")) return null;
  return url;
}

// Certificates by URL; a handful at most (one per region), kept for the process's life while valid.
const certs = new Map<string, Promise<X509Certificate>>();
const MAX_CERTS = 32;

async function certificate(url: URL, policy: SnsPolicy): Promise<X509Certificate> {
  const key = url.toString();
  let pending = certs.get(key);
  if (!pending) {
    pending = (async () => {
      const res = await (policy.fetch ?? fetch)(key, { signal: AbortSignal.timeout(5000), redirect: "error" });
      if (!res.ok) throw new Error(`certificate fetch: HTTP ${res.status}`);
      const pem = await res.text();
      if (pem.length > 20_000) throw new Error("certificate too large");
      return new X509Certificate(pem);
    })();
    if (certs.size >= MAX_CERTS) certs.clear();
    certs.set(key, pending);
    // A failed fetch is not cached.
    pending.catch(() => certs.delete(key));
  }
  return pending;
}

export async function verifySnsEnvelope(rawBody: string, policy: SnsPolicy): Promise<VerifyResult<SnsEnvelope>> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "not an SNS message" };
  const m = parsed.data;
  if (policy.topicArns.length && !policy.topicArns.includes(m.TopicArn)) return { ok: false, reason: "unexpected topic" };
  const certUrl = allowedSnsUrl(m.SigningCertURL, policy, "cert");
  if (!certUrl) return { ok: false, reason: "SigningCertURL host not allowed" };
  let cert: X509Certificate;
  try {
    cert = await certificate(certUrl, policy);
  } catch {
    return { ok: false, reason: "signing certificate unavailable" };
  }
  const now = Date.now();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
    return { ok: false, reason: "signing certificate expired" };
  const valid = createVerify(m.SignatureVersion === "1" ? "RSA-SHA1" : "RSA-SHA256")
    .update(snsStringToSign(m), "utf8")
    .verify(cert.publicKey, m.Signature, "base64");
  return valid ? { ok: true, value: m } : { ok: false, reason: "invalid signature" };
}

/** A verified SubscriptionConfirmation: visit SubscribeURL (only on an allowed host). */
export async function confirmSubscription(m: SnsEnvelope, policy: SnsPolicy): Promise<boolean> {
  const url = m.SubscribeURL ? allowedSnsUrl(m.SubscribeURL, policy, "subscribe") : null;
  if (!url) return false;
  const res = await (policy.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5000), redirect: "error" });
  return res.ok;
}

const sesEventSchema = z
  .object({
    eventType: z.string().optional(),
    notificationType: z.string().optional(),
    mail: z.object({ messageId: z.string().min(1).max(200), destination: z.array(z.string()).optional() }).loose(),
    bounce: z
      .object({
        bounceType: z.string(),
        bounceSubType: z.string().optional(),
        bouncedRecipients: z
          .array(z.object({ emailAddress: z.string(), diagnosticCode: z.string().optional() }).loose())
          .optional(),
      })
      .loose()
      .optional(),
    complaint: z.object({ complaintFeedbackType: z.string().optional() }).loose().optional(),
  })
  .loose();

const SES_TYPES: Record<string, DeliveryEventType> = {
  Send: "sent",
  Delivery: "delivered",
  DeliveryDelay: "deferred",
  Bounce: "bounced",
  Complaint: "complained",
  Reject: "failed",
  Open: "opened",
  Click: "clicked",
};

/** The SES event inside a verified Notification, in the hub's words (null: not one the hub tracks). */
export function sesDeliveryEvent(m: SnsEnvelope): DeliveryEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(m.Message);
  } catch {
    return null;
  }
  const parsed = sesEventSchema.safeParse(json);
  if (!parsed.success) return null;
  const e = parsed.data;
  const kind = e.eventType ?? e.notificationType ?? "";
  const type = SES_TYPES[kind];
  if (!type) return null;
  return {
    provider: "ses",
    externalId: m.MessageId,
    type,
    providerMessageId: e.mail.messageId,
    recipient: e.bounce?.bouncedRecipients?.[0]?.emailAddress ?? e.mail.destination?.[0],
    ...(e.bounce ? { bounceKind: e.bounce.bounceType === "Permanent" ? "permanent" : "transient" } : {}),
    occurredAt: new Date(Date.parse(m.Timestamp) || Date.now()),
    detail: {
      event: kind,
      ...(e.bounce
        ? {
            bounceType: e.bounce.bounceType,
            bounceSubType: e.bounce.bounceSubType,
            reason: e.bounce.bouncedRecipients?.[0]?.diagnosticCode,
          }
        : {}),
      ...(e.complaint?.complaintFeedbackType ? { feedbackType: e.complaint.complaintFeedbackType } : {}),
    },
  };
}
