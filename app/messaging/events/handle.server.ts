// The three delivery-event endpoints' one entry: verify, then apply. A forged
// request, and a replay of events already recorded, get 401 and change
// nothing; events about messages the hub does not know are acknowledged (200)
// so the provider stops retrying them.
import type { HubContext } from "../../runtime/context.server";
import type { DeliveryEvent } from "../types";
import { applyDeliveryEvent, type ApplyOutcome } from "./apply.server";
import { loadEventsConfig } from "./config.server";
import { verifyResendEvent } from "./resend.server";
import { verifySendGridEvents } from "./sendgrid.server";
import { confirmSubscription, sesDeliveryEvent, verifySnsEnvelope, type SnsPolicy } from "./sns.server";

export type EventProvider = "resend" | "sendgrid" | "ses";

export interface EventsAnswer {
  status: number;
  body: { ok: boolean; applied?: number; ignored?: number; error?: string };
}

/** Provider webhooks are small; anything larger is refused before it is parsed. */
export const MAX_EVENT_BODY_BYTES = 1_000_000;

const rejected = (error: string): EventsAnswer => ({ status: 401, body: { ok: false, error } });

async function applyAll(ctx: HubContext, events: DeliveryEvent[]): Promise<EventsAnswer> {
  const outcomes: ApplyOutcome[] = [];
  for (const e of events) outcomes.push(await applyDeliveryEvent(ctx.db, e));
  const applied = outcomes.filter((o) => o === "applied").length;
  const replayed = outcomes.filter((o) => o === "replayed").length;
  // Every event was one already recorded: a replay.
  if (replayed > 0 && applied === 0 && replayed === outcomes.filter((o) => o !== "unknown_message").length)
    return rejected("replayed event");
  return { status: 200, body: { ok: true, applied, ignored: outcomes.length - applied } };
}

export async function handleDeliveryEvents(
  ctx: HubContext,
  provider: EventProvider,
  input: { rawBody: string; headers: Headers },
  opts: { fetch?: typeof fetch } = {},
): Promise<EventsAnswer> {
  const config = await loadEventsConfig(ctx, provider);
  const reject = (reason: string) => {
    ctx.log.warn({ provider, reason }, "delivery event rejected");
    return rejected("invalid signature");
  };
  if (provider === "resend") {
    const v = verifyResendEvent(config.resendWebhookSecret, input.rawBody, input.headers);
    if (!v.ok) return reject(v.reason);
    return applyAll(ctx, v.value ? [v.value] : []);
  }
  if (provider === "sendgrid") {
    const v = verifySendGridEvents(config.sendgridPublicKey, input.rawBody, input.headers);
    if (!v.ok) return reject(v.reason);
    return applyAll(ctx, v.value);
  }
  const policy: SnsPolicy = {
    hostPattern: config.snsHostPattern,
    allowHttp: config.snsAllowHttp,
    topicArns: config.snsTopicArns,
    fetch: opts.fetch,
  };
  const v = await verifySnsEnvelope(input.rawBody, policy);
  if (!v.ok) return reject(v.reason);
  const m = v.value;
  if (m.Type === "SubscriptionConfirmation") {
    const confirmed = await confirmSubscription(m, policy).catch(() => false);
    ctx.log.info({ provider, topicArn: m.TopicArn, confirmed }, "SNS subscription confirmation");
    return confirmed ? { status: 200, body: { ok: true } } : { status: 400, body: { ok: false, error: "not confirmed" } };
  }
  if (m.Type === "UnsubscribeConfirmation") return { status: 200, body: { ok: true } };
  const event = sesDeliveryEvent(m);
  return applyAll(ctx, event ? [event] : []);
}

/** The resource routes' action: the RAW body (signatures are over the exact bytes), size-capped. */
export async function deliveryEventsAction(ctx: HubContext, provider: EventProvider, request: Request): Promise<Response> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_EVENT_BODY_BYTES) return Response.json({ ok: false, error: "payload too large" }, { status: 413 });
  const rawBody = await request.text();
  if (Buffer.byteLength(rawBody) > MAX_EVENT_BODY_BYTES)
    return Response.json({ ok: false, error: "payload too large" }, { status: 413 });
  const answer = await handleDeliveryEvents(ctx, provider, { rawBody, headers: request.headers });
  return Response.json(answer.body, { status: answer.status, headers: { "Cache-Control": "no-store" } });
}

export function methodNotAllowed(): Response {
  return new Response("Method Not Allowed", { status: 405, headers: { Allow: "POST", "Content-Type": "text/plain" } });
}
