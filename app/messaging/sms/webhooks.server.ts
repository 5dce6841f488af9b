// Twilio's two calls into the hub. Both are form posts signed with
// X-Twilio-Signature over the URL Twilio was given (the hub's PUBLIC URL, not
// the one this process listens on), checked with twilio.validateRequest before
// anything is read: a bad or missing signature gets 403 and changes nothing.
import { and, eq, or, sql } from "drizzle-orm";
import { z } from "zod";
import twilio from "twilio";
import { messageEvents, messages } from "../../../db/schema";
import type { HubContext } from "../../runtime/context.server";
import type { MessageStatus } from "../types";
import { loadTwilioSettings } from "./config.server";
import { validTwilioSignature } from "./twilio.server";
import { recordInboundSms } from "./opt-out.server";
import { E164_PATTERN } from "./phone";

export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
}

const text = (status: number, body: string): WebhookAnswer => ({ status, contentType: "text/plain", body });

const statusSchema = z.object({
  AccountSid: z.string(),
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/),
  MessageStatus: z.enum([
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "receiving",
    "received",
    "canceled",
  ]),
  ErrorCode: z.string().optional(),
  To: z.string().optional(),
});

/** Twilio's status -> the hub's, and how far along it is (a late "sent" never undoes "delivered"). */
const MAPPED: Partial<Record<z.infer<typeof statusSchema>["MessageStatus"], MessageStatus>> = {
  sent: "sent",
  delivered: "delivered",
  read: "delivered",
  undelivered: "failed",
  failed: "failed",
  canceled: "failed",
};
const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  failed: 3,
  bounced: 3,
  complained: 4,
  suppressed: 5,
};

async function verified(ctx: HubContext, req: { url: string; params: Record<string, string>; signature: string | null }) {
  const settings = await loadTwilioSettings(ctx);
  if (!settings) return null;
  if (!validTwilioSignature(settings.authToken, req.signature, req.url, req.params)) return null;
  return settings;
}

/** POST /messaging/twilio/status: a delivery status onto the message's timeline (replays are no-ops). */
export async function handleTwilioStatus(
  ctx: HubContext,
  req: { url: string; params: Record<string, string>; signature: string | null },
): Promise<WebhookAnswer> {
  const settings = await verified(ctx, req);
  if (!settings) return text(403, "Invalid signature");
  const parsed = statusSchema.safeParse(req.params);
  if (!parsed.success || parsed.data.AccountSid !== settings.accountSid)
    return text(400, "Not a Twilio status callback for this account");
  const p = parsed.data;
  const key = new URL(req.url).searchParams.get("key");

  const outcome = await ctx.db.transaction(async (tx) => {
    const [message] = await tx
      .select({ id: messages.id, status: messages.status })
      .from(messages)
      .where(
        or(
          key ? eq(messages.idempotencyKey, key) : sql`false`,
          and(eq(messages.provider, "twilio"), eq(messages.providerMessageId, p.MessageSid)),
        ),
      )
      .for("update")
      .limit(1);
    if (!message) return "unknown";
    const next = MAPPED[p.MessageStatus];
    const advances = next !== undefined && RANK[next] > RANK[message.status] && message.status !== "suppressed";
    const [event] = await tx
      .insert(messageEvents)
      .values({
        messageId: message.id,
        type: `provider.${p.MessageStatus}`,
        status: advances ? next : null,
        provider: "twilio",
        source: "webhook",
        externalId: `${p.MessageSid}:${p.MessageStatus}`,
        detail: { messageSid: p.MessageSid, messageStatus: p.MessageStatus, ...(p.ErrorCode ? { errorCode: p.ErrorCode } : {}) },
      })
      .onConflictDoNothing()
      .returning({ id: messageEvents.id });
    if (!event) return "replay";
    if (advances) {
      await tx
        .update(messages)
        .set({
          status: next,
          statusReason: p.ErrorCode ? `Twilio ${p.MessageStatus} (error ${p.ErrorCode})` : null,
          providerMessageId: p.MessageSid,
          updatedAt: new Date(),
        })
        .where(eq(messages.id, message.id));
    }
    return "recorded";
  });
  ctx.log.debug({ provider: "twilio", messageSid: p.MessageSid, status: p.MessageStatus, outcome }, "twilio status callback");
  // 200 for unknown messages too: Twilio cannot do anything better with an error.
  return text(200, outcome);
}

const inboundSchema = z.object({
  AccountSid: z.string(),
  MessageSid: z.string().min(1),
  From: z.string().regex(E164_PATTERN),
  Body: z.string().max(1600).default(""),
});

/** POST /messaging/twilio/inbound: STOP/START (and friends) from a phone; answered with TwiML. */
export async function handleTwilioInbound(
  ctx: HubContext,
  req: { url: string; params: Record<string, string>; signature: string | null },
): Promise<WebhookAnswer> {
  const settings = await verified(ctx, req);
  if (!settings) return text(403, "Invalid signature");
  const parsed = inboundSchema.safeParse(req.params);
  if (!parsed.success || parsed.data.AccountSid !== settings.accountSid)
    return text(400, "Not a Twilio inbound message for this account");
  const p = parsed.data;
  const result = await recordInboundSms(ctx.db, { phone: p.From, body: p.Body, sourceId: p.MessageSid });
  ctx.log.info({ provider: "twilio", keyword: result.keyword?.action ?? null, recorded: result.recorded }, "twilio inbound sms");
  const twiml = new twilio.twiml.MessagingResponse();
  // Twilio answers STOP, START and HELP itself (carrier rules); a second reply from us would be blocked or duplicate.
  if (!result.keyword) twiml.message("This number only sends WedSync notifications and is not monitored. Reply STOP to opt out.");
  return { status: 200, contentType: "text/xml", body: twiml.toString() };
}

/** Twilio's form posts are small; anything larger is not Twilio. */
const MAX_TWILIO_BODY_BYTES = 64_000;

type TwilioHandler = (
  ctx: HubContext,
  req: { url: string; params: Record<string, string>; signature: string | null },
) => Promise<WebhookAnswer>;

/**
 * The HTTP side both Twilio routes share: the form body (size-capped), the signature header and the URL
 * Twilio signed (the hub's public URL with this request's path and query), the answer as a Response.
 */
export async function answerTwilioPost(ctx: HubContext, request: Request, handler: TwilioHandler): Promise<Response> {
  const raw = await request.text();
  if (raw.length > MAX_TWILIO_BODY_BYTES) return new Response("Payload too large", { status: 413 });
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
  const url = new URL(request.url);
  const answer = await handler(ctx, {
    url: `${ctx.publicUrl()}${url.pathname}${url.search}`,
    params,
    signature: request.headers.get("X-Twilio-Signature"),
  });
  return new Response(answer.body, {
    status: answer.status,
    headers: { "Content-Type": `${answer.contentType}; charset=utf-8`, "Cache-Control": "no-store" },
  });
}
