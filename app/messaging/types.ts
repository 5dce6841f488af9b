// The messaging contract. Every channel (email, SMS, push) is a list of
// providers that implement MessageProvider; the delivery engine
// (app/messaging/deliver.server.ts) owns ordering, circuit breakers,
// attempts, idempotency and failover, so a provider only has to make ONE call
// and say honestly what happened.
import { z } from "zod";
import { messageChannel, messageStatus } from "../../db/schema";

export const channelSchema = z.enum(messageChannel);
export type Channel = z.infer<typeof channelSchema>;

export const messageStatusSchema = z.enum(messageStatus);
export type MessageStatus = z.infer<typeof messageStatusSchema>;

/** Final states: nothing more is sent. delivered/bounced/complained can still follow "sent" via delivery events. */
export const TERMINAL_SEND_STATUSES: readonly MessageStatus[] = [
  "sent",
  "delivered",
  "bounced",
  "complained",
  "failed",
  "suppressed",
];

// ------------------------------------------------------------ rendered content

export interface EmailAttachment {
  filename: string;
  contentType: string;
  /** UTF-8 text (e.g. an .ics file). */
  content: string;
}

export interface EmailContent {
  channel: "email";
  from: { email: string; name?: string };
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  attachments: EmailAttachment[];
}

export interface SmsContent {
  channel: "sms";
  /** E.164. */
  to: string;
  body: string;
}

export interface PushContent {
  channel: "push";
  /** The user id whose browsers get it; the push provider resolves push_subscriptions. */
  userId: string;
  payload: { title: string; body: string; url?: string; tag?: string };
}

export type RenderedContent = EmailContent | SmsContent | PushContent;

/** What a provider gets: the stored message plus its rendered content. */
export interface OutboundMessage<C extends RenderedContent = RenderedContent> {
  id: string;
  channel: C["channel"];
  recipient: string;
  template: string;
  /** Stable per message; identical across retries and across providers. */
  idempotencyKey: string;
  priority: number;
  critical: boolean;
  content: C;
}

/** One call to one provider. `requestKey` is what the provider must be given as its idempotency key. */
export interface AttemptContext {
  attemptId: string;
  attemptNo: number;
  requestKey: string;
  /** Abort the call when this fires (the engine's per-call timeout); an abort after the request went out is ambiguous. */
  signal: AbortSignal;
}

// ------------------------------------------------------------ send results

/**
 * The four things a send can end as. The distinction drives failover:
 *  - accepted: the provider took it; done.
 *  - failed: definitely NOT sent. `scope` says whose fault:
 *      "provider" (5xx, auth, network refused before sending) -> try the next provider;
 *      "message"  (invalid address, content rejected: 4xx) -> no provider will do better; the message fails.
 *  - ambiguous: the request may have reached the provider (timeout / reset after writing it). Retry on the
 *    SAME provider with the SAME requestKey before failing over, so the provider's dedupe holds.
 *  - rate_limited: 429; try again after retryAfterMs (or another provider meanwhile).
 */
export type SendResult =
  | { outcome: "accepted"; providerMessageId?: string; detail?: Record<string, unknown> }
  | { outcome: "failed"; scope: "provider" | "message"; error: string; httpStatus?: number }
  | { outcome: "ambiguous"; error: string }
  | { outcome: "rate_limited"; retryAfterMs: number; error: string; httpStatus?: number };

export interface MessageProvider<C extends RenderedContent = RenderedContent> {
  /** Connector id: "resend", "sendgrid", "ses", "smtp", "twilio", "web-push". */
  readonly id: string;
  readonly channel: C["channel"];
  /**
   * Does the provider dedupe on requestKey? Only then is an ambiguous attempt retried on it; for the
   * others an ambiguous attempt is left as "sent (unconfirmed)" rather than risking a second delivery.
   */
  readonly idempotent?: boolean;
  /** Must not throw for provider errors: map them to a SendResult. A throw is treated as ambiguous. */
  send(message: OutboundMessage<C>, attempt: AttemptContext): Promise<SendResult>;
  close?(): Promise<void>;
}

// ------------------------------------------------------------ configuration

/** Per provider, from connector settings (staff) or config; the order is `priority` ascending. */
export const providerSettingsSchema = z.object({
  enabled: z.boolean().default(true),
  priority: z.number().int().min(0).max(1000).default(100),
  /** The hub's own budget for the provider (never above the provider's documented limit). */
  rateLimit: z.object({ requests: z.number().int().min(1), perSeconds: z.number().positive() }).optional(),
  /** Per-call timeout; past it the attempt is ambiguous. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Circuit breaker: open after this many provider failures in a row, probe again (half-open) after halfOpenAfterMs. */
  breakerThreshold: z.number().int().min(1).max(100).default(3),
  halfOpenAfterMs: z.number().int().min(100).max(600_000).default(5_000),
  /**
   * For a provider without idempotency keys whose delivery events reach the hub: an ambiguous send
   * ("sent, unconfirmed") that no event of this provider confirms within this many ms is sent again
   * through another provider. 0 (default) never resends: no duplicate, but a send lost in the
   * ambiguity stays lost. Turn it on only where the provider's event webhook is configured.
   */
  confirmWithinMs: z.number().int().min(0).max(86_400_000).default(0),
  /** Sender identity for email. */
  fromEmail: z.email().optional(),
  fromName: z.string().max(200).optional(),
});
export type ProviderSettings = z.infer<typeof providerSettingsSchema>;

// ------------------------------------------------------------ delivery events back in

export const deliveryEventTypeSchema = z.enum([
  "sent",
  "delivered",
  "deferred",
  "bounced",
  "complained",
  "failed",
  "opened",
  "clicked",
  "unsubscribed",
]);
export type DeliveryEventType = z.infer<typeof deliveryEventTypeSchema>;

/** A provider's delivery event after its signature was verified, in the hub's words. */
export interface DeliveryEvent {
  provider: string;
  /** The provider's own id for this event: the replay guard (unique per provider). */
  externalId: string;
  type: DeliveryEventType;
  /** How to find the message: the provider's message id and/or the idempotency key we sent along. */
  providerMessageId?: string;
  idempotencyKey?: string;
  recipient?: string;
  /** Bounces: "permanent" suppresses; "transient" does not. */
  bounceKind?: "permanent" | "transient";
  occurredAt: Date;
  detail: Record<string, unknown>;
}
