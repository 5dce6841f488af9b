// Receiving one inbound delivery, in the order that keeps the hub cheap to
// attack and honest to senders:
//   404 unknown/disabled endpoint → 413 body too large (Content-Length, then
//   while reading: we stop at the cap) → 415 content type → 400 malformed JSON
//   → 429 per-endpoint token bucket → 401 verification.
// Every refusal is a webhook_refusals row (no body kept) and a log line without
// secrets. A verified delivery and its process_inbound_webhook job commit in
// ONE transaction before the 2xx (durable acknowledgement); a delivery id seen
// before is acknowledged 200 and not processed again.
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { HubContext } from "../../runtime/context.server";
import { webhookEndpoints, webhookRefusals } from "../../../db/schema";
import { LeasedBucket } from "../../import/rate-limit.server";
import { INBOUND_PATH, liveSecrets, toInboundEndpoint, type InboundEndpoint } from "./endpoints.server";
import {
  acceptsContentType,
  deliveryIdFromPayload,
  payloadOf,
  SECRET_HEADERS,
  verifyRequest,
  type Headers,
  type SchemeConfig,
} from "./schemes";

export interface InboundRequest {
  endpointRef: string;
  headers: Headers;
  /** The query string as sent (Twilio signs the full URL; Graph's validationToken arrives here). */
  search: string;
  /** Reads the body, giving up (null) once more than `limit` bytes arrived. */
  readBody(limit: number): Promise<Buffer | null>;
}

export interface InboundAnswer {
  status: number;
  headers: Record<string, string>;
  /** JSON body, or plain text (Graph's validation echo). */
  json?: unknown;
  text?: string;
  /** Close the connection after answering (we stopped reading a too-large body). */
  close?: boolean;
}

export const PROCESS_TASK = "process_inbound_webhook" as const;
export const processJobKey = (deliveryId: string) => `webhook-in:${deliveryId}`;
/** graphile-worker's own retries cover infrastructure failures of a run; the delivery's attempts are ours (process.server.ts). */
export const JOB_MAX_ATTEMPTS = 5;

const rateKey = (endpointId: string) => `webhook-in:${endpointId}`;

// Per process and endpoint: a lease on the endpoint's shared bucket, so most deliveries spend a local token.
const leases = new WeakMap<HubContext, Map<string, LeasedBucket>>();
function leaseFor(ctx: HubContext, endpointId: string): LeasedBucket {
  let byEndpoint = leases.get(ctx);
  if (!byEndpoint) leases.set(ctx, (byEndpoint = new Map()));
  let lease = byEndpoint.get(endpointId);
  if (!lease) byEndpoint.set(endpointId, (lease = new LeasedBucket(rateKey(endpointId))));
  return lease;
}

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): InboundAnswer => ({
  status,
  headers,
  json: { error: { code, message } },
});

async function refuse(ctx: HubContext, endpointRef: string, answer: InboundAnswer, reason: string): Promise<InboundAnswer> {
  const ref = endpointRef.slice(0, 100);
  try {
    await ctx.db.insert(webhookRefusals).values({ endpointRef: ref, status: answer.status, reason: reason.slice(0, 500) });
  } catch (err) {
    // Counting a refusal must never turn it into a 500.
    ctx.log.error({ err, endpointRef: ref }, "could not record a webhook refusal");
  }
  ctx.log.warn({ endpointRef: ref, status: answer.status, reason }, "inbound webhook refused");
  return answer;
}

async function loadEndpoint(ctx: HubContext, ref: string): Promise<InboundEndpoint | null> {
  if (!z.uuid().safeParse(ref).success) return null;
  const [row] = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, ref), eq(webhookEndpoints.direction, "in")));
  if (!row || row.status !== "active") return null;
  return toInboundEndpoint(row);
}

/** Headers as stored: lower-cased, secrets (bearer tokens sent in clear) replaced; signatures kept for the record. */
export function storableHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k) ? "[redacted]" : v.slice(0, 2000);
  }
  return out;
}

/** The body as stored: Graph's clientState is the shared secret itself, so it is masked. */
function storableBody(scheme: SchemeConfig, body: Buffer, payload: unknown): string {
  if (scheme.id !== "graph-client-state") return body.toString("utf8");
  const masked = JSON.parse(JSON.stringify(payload)) as { value?: { clientState?: string }[] };
  for (const n of masked.value ?? []) if (n.clientState !== undefined) n.clientState = "[redacted]";
  return JSON.stringify(masked);
}

function eventTypeOf(payload: unknown, headers: Headers): string | null {
  if (typeof payload === "object" && payload !== null && !Array.isArray(payload)) {
    const t = (payload as { type?: unknown; event?: unknown }).type ?? (payload as { event?: unknown }).event;
    if (typeof t === "string") return t.slice(0, 200);
  }
  return headers["x-goog-resource-state"] ?? null;
}

export async function receiveInbound(
  ctx: HubContext,
  req: InboundRequest,
  now: () => Date = () => new Date(),
): Promise<InboundAnswer> {
  const endpoint = await loadEndpoint(ctx, req.endpointRef);
  if (!endpoint)
    return refuse(
      ctx,
      req.endpointRef,
      error(
        404,
        "unknown_endpoint",
        "No active inbound webhook endpoint has this id. Check the URL in the hub's console (Webhooks).",
      ),
      "unknown or disabled endpoint",
    );
  const scheme = endpoint.settings.scheme;

  // Microsoft Graph proves the URL before it sends notifications: echo its token, store nothing.
  const validationToken = new URLSearchParams(req.search).get("validationToken");
  if (scheme.id === "graph-client-state" && validationToken !== null)
    return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, text: validationToken.slice(0, 1000) };

  const cap = endpoint.maxBodyBytes;
  const tooLarge = () =>
    refuse(
      ctx,
      endpoint.id,
      {
        ...error(
          413,
          "body_too_large",
          `The body is larger than this endpoint accepts (${cap} bytes). Send smaller deliveries or raise the limit in the console.`,
        ),
        close: true,
      },
      `body over ${cap} bytes`,
    );
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > cap) return tooLarge();

  const contentType = req.headers["content-type"];
  // Google's notifications have no body (and no content type): judge those after reading.
  if (!(scheme.id === "google-channel" && !contentType) && !acceptsContentType(scheme, contentType, 1))
    return refuse(
      ctx,
      endpoint.id,
      error(
        415,
        "unsupported_content_type",
        `This endpoint accepts ${scheme.id === "twilio" ? "application/json or application/x-www-form-urlencoded" : "application/json"} bodies, not ${contentType ?? "a body without Content-Type"}.`,
      ),
      `content type ${contentType ?? "missing"}`,
    );

  const body = await req.readBody(cap);
  if (body === null) return tooLarge();
  if (!acceptsContentType(scheme, contentType, body.length))
    return refuse(
      ctx,
      endpoint.id,
      error(415, "unsupported_content_type", "Send the body as application/json."),
      "body without content type",
    );

  const payload = payloadOf(scheme, body, req.headers);
  if (!payload.ok)
    return refuse(
      ctx,
      endpoint.id,
      error(400, "malformed_body", `The body could not be read: ${payload.reason}.`),
      payload.reason,
    );

  const limit = await leaseFor(ctx, endpoint.id).take(ctx.db, {
    capacity: endpoint.rateLimitPerMinute,
    refillPerSecond: endpoint.rateLimitPerMinute / 60,
  });
  if (!limit.granted) {
    const retryAfter = Math.max(1, Math.ceil(limit.waitMs / 1000));
    return refuse(
      ctx,
      endpoint.id,
      error(
        429,
        "rate_limited",
        `This endpoint accepts ${endpoint.rateLimitPerMinute} deliveries a minute. Retry after ${retryAfter} s.`,
        { "retry-after": String(retryAfter) },
      ),
      "rate limit",
    );
  }

  const at = now();
  const verdict = verifyRequest(scheme, {
    body,
    headers: req.headers,
    url: `${ctx.publicUrl()}${INBOUND_PATH(endpoint.id)}${req.search}`,
    secrets: liveSecrets(ctx.vault, endpoint, at),
    now: at,
  });
  if (!verdict.ok)
    return refuse(
      ctx,
      endpoint.id,
      error(401, "verification_failed", `The delivery could not be verified: ${verdict.reason}.`),
      verdict.reason,
    );

  const externalId = verdict.externalId ?? deliveryIdFromPayload(scheme, payload.payload);
  // The delivery and its processing job in ONE statement (one round trip, one commit) before the 2xx;
  // the job's payload is the delivery id, which is what taskPayloadSchemas.process_inbound_webhook expects.
  const inserted = await ctx.db.execute<{ id: string }>(sql`
    with ins as (
      insert into webhook_deliveries (endpoint_id, external_id, event_type, status, headers, body, verification)
      values (${endpoint.id}, ${externalId}, ${eventTypeOf(payload.payload, req.headers)}, 'received',
              ${JSON.stringify(storableHeaders(req.headers))}::jsonb, ${storableBody(scheme, body, payload.payload)},
              ${JSON.stringify({
                scheme: verdict.scheme,
                ok: true,
                secret: verdict.secret,
                timestamp: verdict.timestamp,
                at: at.toISOString(),
              })}::jsonb)
      on conflict (endpoint_id, external_id) do nothing
      returning id
    )
    select ins.id from ins, lateral (
      select graphile_worker.add_job(
        identifier => ${PROCESS_TASK}::text,
        payload => json_build_object('deliveryId', ins.id),
        job_key => ${processJobKey("")}::text || ins.id::text,
        max_attempts => ${JOB_MAX_ATTEMPTS}::int)
    ) job`);
  const stored = inserted.rows[0]?.id ?? null;
  if (!stored) {
    ctx.log.info({ endpointId: endpoint.id, externalId }, "inbound webhook: delivery id seen before, acknowledged again");
    return {
      status: 200,
      headers: {},
      json: { status: "duplicate", message: `Delivery ${externalId} was received before; it is not processed again.` },
    };
  }
  return { status: 202, headers: {}, json: { status: "accepted", deliveryId: stored } };
}

/** Deliveries waiting for or in processing (for tests and the console). */
export async function pendingJobs(ctx: HubContext, deliveryId: string): Promise<number> {
  const res = await ctx.db.execute<{ n: number }>(
    sql`select count(*)::int as n from graphile_worker._private_jobs where key = ${processJobKey(deliveryId)}`,
  );
  return res.rows[0]?.n ?? 0;
}
