// Inbound verification schemes: pure functions over (raw body bytes, headers,
// secrets, now). No database, no HTTP: the receiver (receive.server.ts) hands
// in what it read and gets back "ok" (which secret verified, the delivery id)
// or a refusal with a reason a sender's developer can act on. Every comparison
// of a signature or token is constant-time; timestamps more than five minutes
// from now are refused. Secrets never appear in a reason.
import crypto from "node:crypto";
import { z } from "zod";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import twilio from "twilio";
import type { SchemeConfig, SchemeId } from "./scheme-config";

export { SCHEMES, SCHEME_LABELS, schemeConfigSchema, type SchemeConfig, type SchemeId } from "./scheme-config";

export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export type Headers = Readonly<Record<string, string | undefined>>;

export interface VerifyInput {
  body: Buffer;
  /** Lower-cased header names. */
  headers: Headers;
  /** The URL the sender was given (Twilio signs it): the hub's public URL plus the request's query string. */
  url: string;
  /** Current secret first, then the previous one while its rotation overlap lasts. */
  secrets: readonly string[];
  now: Date;
}

export type Verdict =
  | { ok: true; scheme: SchemeId; secret: "current" | "previous"; externalId: string | null; timestamp: string | null }
  | { ok: false; reason: string };

const refuse = (reason: string): Verdict => ({ ok: false, reason });

export function safeEqualBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Constant-time for equal lengths; comparing hashes keeps even the length of the secret out of the timing. */
export function safeEqualText(a: string, b: string): boolean {
  const h = (s: string) => crypto.createHash("sha256").update(s).digest();
  return crypto.timingSafeEqual(h(a), h(b)) && a === b;
}

const hmac = (key: string | Buffer, data: Buffer | string) => crypto.createHmac("sha256", key).update(data).digest();

function freshTimestamp(raw: string | undefined, now: Date): { ok: true; seconds: number } | { ok: false; reason: string } {
  if (!raw || !/^\d{1,12}$/.test(raw.trim()))
    return { ok: false, reason: "the timestamp is missing or not a Unix time in seconds" };
  const seconds = Number(raw.trim());
  const skew = Math.abs(now.getTime() / 1000 - seconds);
  if (skew > TIMESTAMP_TOLERANCE_SECONDS)
    return {
      ok: false,
      reason: `the timestamp is ${Math.round(skew)} s away from the hub's clock (more than ${TIMESTAMP_TOLERANCE_SECONDS} s): check the sender's clock, or this is a replay`,
    };
  return { ok: true, seconds };
}

/** Try each secret in order; the first that verifies wins. */
function withSecrets(
  secrets: readonly string[],
  scheme: SchemeId,
  check: (secret: string) => boolean,
  extra: { externalId: string | null; timestamp: string | null },
  failure: string,
): Verdict {
  for (let i = 0; i < secrets.length; i++) {
    if (check(secrets[i]!)) return { ok: true, scheme, secret: i === 0 ? "current" : "previous", ...extra };
  }
  return refuse(failure);
}

export function verifyRequest(config: SchemeConfig, input: VerifyInput): Verdict {
  if (input.secrets.length === 0) return refuse("this endpoint has no secret configured; set one in the console");
  switch (config.id) {
    case "standard-webhooks":
      return verifyStandardWebhooks(input);
    case "hmac-sha256":
      return verifyHmac(config, input);
    case "stripe":
      return verifyStripe(config, input);
    case "twilio":
      return verifyTwilio(input);
    case "google-channel":
      return verifyGoogleChannel(input);
    case "graph-client-state":
      return verifyGraphClientState(input);
  }
}

function verifyStandardWebhooks(input: VerifyInput): Verdict {
  const id = input.headers["webhook-id"];
  const ts = input.headers["webhook-timestamp"];
  const sig = input.headers["webhook-signature"];
  if (!id || !ts || !sig)
    return refuse("send the webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks)");
  const fresh = freshTimestamp(ts, input.now);
  if (!fresh.ok) return refuse(`webhook-timestamp: ${fresh.reason}`);
  return withSecrets(
    input.secrets,
    "standard-webhooks",
    (secret) => {
      try {
        // The library checks the signature (constant-time) and, again, the timestamp against its own clock.
        new Webhook(secret).verify(input.body.toString("utf8"), {
          "webhook-id": id,
          "webhook-timestamp": ts,
          "webhook-signature": sig,
        });
        return true;
      } catch (err) {
        if (err instanceof WebhookVerificationError) return false;
        throw err;
      }
    },
    { externalId: id, timestamp: ts },
    "webhook-signature does not match: the body was changed, or it was signed with another secret",
  );
}

function decodeDigest(text: string, encoding: "hex" | "base64"): Buffer | null {
  const t = text.trim();
  if (encoding === "hex") return /^[0-9a-f]+$/i.test(t) && t.length % 2 === 0 ? Buffer.from(t, "hex") : null;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, "base64") : null;
}

function verifyHmac(config: Extract<SchemeConfig, { id: "hmac-sha256" }>, input: VerifyInput): Verdict {
  const raw = input.headers[config.header];
  if (!raw) return refuse(`send the signature in the ${config.header} header`);
  if (config.prefix && !raw.startsWith(config.prefix))
    return refuse(`the ${config.header} header must start with "${config.prefix}"`);
  const digest = decodeDigest(raw.slice(config.prefix.length), config.encoding);
  if (!digest) return refuse(`the ${config.header} header is not a ${config.encoding} digest`);
  let signed: Buffer = input.body;
  let timestamp: string | null = null;
  if (config.timestampHeader) {
    const ts = input.headers[config.timestampHeader];
    const fresh = freshTimestamp(ts, input.now);
    if (!fresh.ok) return refuse(`${config.timestampHeader}: ${fresh.reason}`);
    timestamp = String(fresh.seconds);
    signed = Buffer.concat([Buffer.from(`${timestamp}.`), input.body]);
  }
  const externalId = config.idHeader ? (input.headers[config.idHeader]?.slice(0, 200) ?? null) : null;
  return withSecrets(
    input.secrets,
    "hmac-sha256",
    (secret) => safeEqualBytes(hmac(secret, signed), digest),
    { externalId, timestamp },
    `${config.header} does not match the HMAC-SHA256 of the raw body: the body was changed, or it was signed with another secret`,
  );
}

function verifyStripe(config: Extract<SchemeConfig, { id: "stripe" }>, input: VerifyInput): Verdict {
  const raw = input.headers[config.header];
  if (!raw) return refuse(`send the ${config.header} header (t=<timestamp>,v1=<signature>)`);
  const parts = raw.split(",").map((p) => p.trim().split("="));
  const t = parts.find(([k]) => k === "t")?.[1];
  const v1 = parts.filter(([k, v]) => k === "v1" && v).map(([, v]) => decodeDigest(v!, "hex"));
  if (!t || v1.length === 0) return refuse(`${config.header} must carry t=<timestamp> and at least one v1=<hex signature>`);
  const fresh = freshTimestamp(t, input.now);
  if (!fresh.ok) return refuse(`${config.header} t: ${fresh.reason}`);
  const signed = Buffer.concat([Buffer.from(`${t}.`), input.body]);
  return withSecrets(
    input.secrets,
    "stripe",
    (secret) => {
      const expected = hmac(secret, signed);
      // Check every v1 (no early exit) so the time taken does not say which one matched.
      let match = false;
      for (const candidate of v1) if (candidate && safeEqualBytes(expected, candidate)) match = true;
      return match;
    },
    { externalId: null, timestamp: t },
    `no v1 signature in ${config.header} matches: the body was changed, or it was signed with another secret`,
  );
}

/** Twilio posts a form (signature over URL + sorted params) or JSON (signature over the URL, whose bodySHA256 covers the body). */
function verifyTwilio(input: VerifyInput): Verdict {
  const signature = input.headers["x-twilio-signature"];
  if (!signature) return refuse("send the X-Twilio-Signature header");
  const isForm = (input.headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  const body = input.body.toString("utf8");
  const params = isForm ? formParams(body) : null;
  return withSecrets(
    input.secrets,
    "twilio",
    (token) =>
      params
        ? twilio.validateRequest(token, signature, input.url, params)
        : twilio.validateRequestWithBody(token, signature, input.url, body),
    { externalId: input.headers["i-twilio-idempotency-token"]?.slice(0, 200) ?? null, timestamp: null },
    "X-Twilio-Signature does not match: check that Twilio was given exactly this endpoint's URL and this account's auth token",
  );
}

export function formParams(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}

function verifyGoogleChannel(input: VerifyInput): Verdict {
  const token = input.headers["x-goog-channel-token"];
  if (!token) return refuse("send the X-Goog-Channel-Token header (the token given when the channel was opened)");
  const channel = input.headers["x-goog-channel-id"];
  const number = input.headers["x-goog-message-number"];
  return withSecrets(
    input.secrets,
    "google-channel",
    (secret) => safeEqualText(token, secret),
    { externalId: channel && number ? `${channel}:${number}`.slice(0, 200) : null, timestamp: null },
    "X-Goog-Channel-Token does not match this endpoint's channel token",
  );
}

const graphBodySchema = z.object({ value: z.array(z.object({ clientState: z.string().optional() }).passthrough()).min(1) });

function verifyGraphClientState(input: VerifyInput): Verdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString("utf8"));
  } catch {
    return refuse("the body is not JSON");
  }
  const body = graphBodySchema.safeParse(parsed);
  if (!body.success) return refuse('the body must be a Graph notification: {"value": [{"clientState": …}, …]}');
  const states = body.data.value.map((n) => n.clientState ?? "");
  // Every notification in the batch must carry our clientState: one forged item refuses the lot.
  return withSecrets(
    input.secrets,
    "graph-client-state",
    (secret) => states.map((s) => safeEqualText(s, secret)).every(Boolean),
    { externalId: null, timestamp: null },
    "a notification's clientState does not match this endpoint's clientState",
  );
}

// ------------------------------------------------------------------ what a sender sends

/** Content types a scheme accepts (415 otherwise). Google sends no body at all. */
export function acceptsContentType(config: SchemeConfig, contentType: string | undefined, bodyLength: number): boolean {
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const json = ct === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(ct);
  if (config.id === "google-channel") return bodyLength === 0 || json;
  if (config.id === "twilio") return json || ct === "application/x-www-form-urlencoded";
  return json;
}

/** The payload a mapping sees: the JSON body, Twilio's form as an object, Google's channel headers. */
export function payloadOf(
  config: SchemeConfig,
  body: Buffer,
  headers: Headers,
): { ok: true; payload: unknown } | { ok: false; reason: string } {
  const text = body.toString("utf8");
  const ct = (headers["content-type"] ?? "").toLowerCase();
  if (config.id === "twilio" && ct.startsWith("application/x-www-form-urlencoded"))
    return { ok: true, payload: formParams(text) };
  if (config.id === "google-channel") {
    const channel = {
      channelId: headers["x-goog-channel-id"] ?? null,
      resourceId: headers["x-goog-resource-id"] ?? null,
      resourceState: headers["x-goog-resource-state"] ?? null,
      resourceUri: headers["x-goog-resource-uri"] ?? null,
      messageNumber: headers["x-goog-message-number"] ?? null,
      channelExpiration: headers["x-goog-channel-expiration"] ?? null,
    };
    if (body.length === 0) return { ok: true, payload: channel };
    const parsed = parseJson(text);
    return parsed.ok ? { ok: true, payload: { ...channel, body: parsed.value } } : parsed;
  }
  const parsed = parseJson(text);
  return parsed.ok ? { ok: true, payload: parsed.value } : parsed;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `the body is not valid JSON (${err instanceof Error ? err.message : "parse error"})` };
  }
}

/** Stripe puts its event id in the body, not a header: dedupe on it. */
export function deliveryIdFromPayload(config: SchemeConfig, payload: unknown): string | null {
  if (config.id !== "stripe" || typeof payload !== "object" || payload === null) return null;
  const id = (payload as { id?: unknown }).id;
  return typeof id === "string" && id.length > 0 ? id.slice(0, 200) : null;
}

/** Header names whose values are the secret itself (never stored or logged); signatures are derived and may be kept. */
export const SECRET_HEADERS = new Set(["x-goog-channel-token", "authorization", "proxy-authorization", "cookie"]);

// ------------------------------------------------------------------ secrets and samples

/** A fresh secret in the form the scheme's senders expect. */
export function generateSecret(scheme: SchemeId): string {
  if (scheme === "standard-webhooks" || scheme === "stripe") return `whsec_${crypto.randomBytes(24).toString("base64")}`;
  if (scheme === "twilio") return crypto.randomBytes(16).toString("hex");
  return crypto.randomBytes(32).toString("base64url");
}

/** Whether an entered secret can work with the scheme (Standard Webhooks needs base64 key material). */
export function secretProblem(scheme: SchemeId, secret: string): string | null {
  if (secret.length < 16) return "must be at least 16 characters";
  if (secret.length > 512) return "must be at most 512 characters";
  if (scheme === "standard-webhooks") {
    const b64 = secret.startsWith("whsec_") ? secret.slice(6) : secret;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || Buffer.from(b64, "base64").length < 16)
      return "must be whsec_ followed by base64 (at least 16 bytes of key)";
  }
  if (scheme === "graph-client-state" && secret.length > 128) return "must be at most 128 characters (Graph's limit)";
  return null;
}

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A request that verifies with `secret`: what the console's "sample request"
 * shows as curl, and what tests send. `url` is the endpoint's public URL.
 */
export function signRequest(
  config: SchemeConfig,
  opts: { url: string; secret: string; payload: unknown; now: Date; id: string },
): SignedRequest {
  const ts = String(Math.floor(opts.now.getTime() / 1000));
  const json = JSON.stringify(opts.payload);
  switch (config.id) {
    case "standard-webhooks": {
      const signature = new Webhook(opts.secret).sign(opts.id, opts.now, json);
      return {
        url: opts.url,
        body: json,
        headers: {
          "content-type": "application/json",
          "webhook-id": opts.id,
          "webhook-timestamp": ts,
          "webhook-signature": signature,
        },
      };
    }
    case "hmac-sha256": {
      const signed = config.timestampHeader ? `${ts}.${json}` : json;
      const digest = hmac(opts.secret, signed).toString(config.encoding);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        [config.header]: `${config.prefix}${digest}`,
      };
      if (config.timestampHeader) headers[config.timestampHeader] = ts;
      if (config.idHeader) headers[config.idHeader] = opts.id;
      return { url: opts.url, body: json, headers };
    }
    case "stripe": {
      const body = JSON.stringify(
        typeof opts.payload === "object" && opts.payload !== null ? { id: opts.id, ...opts.payload } : opts.payload,
      );
      const v1 = hmac(opts.secret, `${ts}.${body}`).toString("hex");
      return { url: opts.url, body, headers: { "content-type": "application/json", [config.header]: `t=${ts},v1=${v1}` } };
    }
    case "twilio": {
      const params: Record<string, string> = {};
      if (typeof opts.payload === "object" && opts.payload !== null)
        for (const [k, v] of Object.entries(opts.payload)) params[k] = typeof v === "string" ? v : JSON.stringify(v);
      return {
        url: opts.url,
        body: new URLSearchParams(params).toString(),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(opts.secret, opts.url, params),
          "i-twilio-idempotency-token": opts.id,
        },
      };
    }
    case "google-channel":
      return {
        url: opts.url,
        body: "",
        headers: {
          "x-goog-channel-id": "sample-channel",
          "x-goog-channel-token": opts.secret,
          "x-goog-message-number": String(opts.now.getTime()),
          "x-goog-resource-id": "sample-resource",
          "x-goog-resource-state": "exists",
        },
      };
    case "graph-client-state":
      return {
        url: opts.url,
        body: JSON.stringify({
          value: [{ clientState: opts.secret, changeType: "updated", resource: opts.id, resourceData: opts.payload }],
        }),
        headers: { "content-type": "application/json" },
      };
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function toCurl(req: SignedRequest): string {
  const lines = [`curl -sS -X POST ${shellQuote(req.url)}`];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`  -H ${shellQuote(`${k}: ${v}`)}`);
  if (req.body) lines.push(`  --data-binary ${shellQuote(req.body)}`);
  return lines.join(" \\\n");
}
