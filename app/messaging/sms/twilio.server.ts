// SMS through the real twilio SDK. Its HTTP goes through SimulatorAwareClient,
// a RequestClient whose request() rewrites https://api.twilio.com to the
// configured API root (the sandbox simulator, a proxy) and uses fetch, so the
// engine's AbortSignal can stop a call and the last response's Retry-After
// header is readable. Twilio's Messages API has no idempotency key, so the
// request key travels in the StatusCallback URL: callbacks find their message
// by it even before the provider's SID is stored.
import twilio from "twilio";
import RequestClient from "twilio/lib/base/RequestClient";
import TwilioResponse from "twilio/lib/http/response";
import { z } from "zod";
import type { AttemptContext, MessageProvider, OutboundMessage, SendResult, SmsContent } from "../types";
import { E164_PATTERN } from "./phone";
import { countSegments } from "./segments";

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** The sending number (E.164). */
  from: string;
  /** Replaces https://api.twilio.com; unset in production. */
  apiRoot?: string;
  /** Absolute URL of POST /messaging/twilio/status as Twilio can reach it. */
  statusCallbackUrl?: string;
}

export const twilioSettingsSchema = z.object({
  accountSid: z.string().regex(/^AC[0-9a-zA-Z]{32}$/, "must be an Account SID (AC followed by 32 characters)"),
  authToken: z.string().min(16),
  from: z.string().regex(E164_PATTERN, "must be an E.164 number such as +14155550100"),
  apiRoot: z.url({ protocol: /^https?$/ }).optional(),
  statusCallbackUrl: z.url({ protocol: /^https?$/ }).optional(),
});

// Twilio error codes that no other provider (or retry) would fix: the number or content is the problem.
const MESSAGE_ERROR_CODES = new Set([21211, 21212, 21408, 21602, 21604, 21610, 21612, 21614, 21617, 21635, 30003, 30005, 30006]);
const TWILIO_ORIGIN = /^https:\/\/[a-z0-9.-]*\.?twilio\.com/i;

class FetchError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
  }
}

/** A twilio RequestClient over fetch that talks to `apiRoot` instead of twilio.com. */
class SimulatorAwareClient extends RequestClient {
  lastHeaders: Headers | null = null;

  constructor(
    private readonly apiRoot: string | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    super({ autoRetry: false });
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const url = new URL(this.apiRoot ? opts.uri.replace(TWILIO_ORIGIN, this.apiRoot.replace(/\/$/, "")) : opts.uri);
    for (const [k, v] of paramsOf(opts.params)) url.searchParams.append(k, v);
    const headers = new Headers();
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === "string") headers.set(k, v);
    headers.delete("connection");
    if (opts.username && opts.password)
      headers.set("Authorization", `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`);
    const body = opts.data ? new URLSearchParams(paramsOf(opts.data)) : undefined;
    let res: globalThis.Response;
    try {
      res = await fetch(url, { method: opts.method.toUpperCase(), headers, body, signal: this.signal, redirect: "manual" });
    } catch (err) {
      // Refused / unresolvable: nothing reached Twilio. Anything else (abort, reset) may have.
      const code = errorCode(err);
      const sent = !(code && ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].includes(code));
      throw new FetchError(`${code ?? "network"}: ${err instanceof Error ? err.message : String(err)}`, sent);
    }
    this.lastHeaders = res.headers;
    const text = await res.text();
    // The SDK JSON-parses string bodies itself; a non-JSON body stays a string for RestException.
    return new TwilioResponse<TData>(res.status, text as TData, Object.fromEntries(res.headers));
  }
}

function paramsOf(value: unknown): [string, string][] {
  if (!value || typeof value !== "object") return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(value)) {
    // Twilio's form encoding repeats array keys (MediaUrl=a&MediaUrl=b).
    for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined && item !== null) out.push([k, String(item)]);
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  if ("code" in err && typeof err.code === "string") return err.code;
  return "cause" in err && err.cause !== err ? errorCode(err.cause) : undefined;
}

const restErrorSchema = z.object({ status: z.number(), code: z.number().optional(), message: z.string().optional() });

function retryAfterMs(header: string | null | undefined): number {
  const seconds = Number(header);
  if (header && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = header ? Date.parse(header) : NaN;
  return Number.isNaN(at) ? 1000 : Math.max(0, at - Date.now());
}

/** Map what the SDK threw to the engine's four outcomes. */
export function classifyTwilioError(err: unknown, headers: Headers | null, signal?: AbortSignal): SendResult {
  if (err instanceof FetchError) {
    if (!err.sent) return { outcome: "failed", scope: "provider", error: err.message };
    return { outcome: "ambiguous", error: signal?.aborted ? `timed out: ${err.message}` : err.message };
  }
  const rest = restErrorSchema.safeParse(err);
  if (!rest.success) return { outcome: "ambiguous", error: err instanceof Error ? err.message : String(err) };
  const { status, code, message } = rest.data;
  const text = `Twilio ${code ?? status}: ${message ?? "error"}`;
  if (status === 429)
    return { outcome: "rate_limited", retryAfterMs: retryAfterMs(headers?.get("retry-after")), error: text, httpStatus: 429 };
  if (code !== undefined && MESSAGE_ERROR_CODES.has(code))
    return { outcome: "failed", scope: "message", error: text, httpStatus: status };
  // Auth, account, a wrong API root (404), timeouts and 5xx are this provider's problem; other 4xx the message's.
  if (status === 401 || status === 403 || status === 404 || status === 408 || status >= 500)
    return { outcome: "failed", scope: "provider", error: text, httpStatus: status };
  return { outcome: "failed", scope: "message", error: text, httpStatus: status };
}

export function statusCallbackFor(base: string, requestKey: string): string {
  const url = new URL(base);
  url.searchParams.set("key", requestKey);
  return url.toString();
}

export interface TwilioProvider extends MessageProvider<SmsContent> {
  readonly settings: Readonly<Omit<TwilioSettings, "authToken">>;
}

export function createTwilioProvider(input: TwilioSettings): TwilioProvider {
  const settings = twilioSettingsSchema.parse(input);
  return {
    id: "twilio",
    channel: "sms",
    // No idempotency key on Twilio's Messages API: an ambiguous attempt is "sent, unconfirmed", never resent.
    idempotent: false,
    settings: {
      accountSid: settings.accountSid,
      from: settings.from,
      apiRoot: settings.apiRoot,
      statusCallbackUrl: settings.statusCallbackUrl,
    },
    async send(message: OutboundMessage<SmsContent>, attempt: AttemptContext): Promise<SendResult> {
      const { to, body } = message.content;
      if (!E164_PATTERN.test(to)) return { outcome: "failed", scope: "message", error: `Not an E.164 number: ${to}` };
      // One client per call: the http client carries this attempt's AbortSignal and its last response.
      const http = new SimulatorAwareClient(settings.apiRoot, attempt.signal);
      const client = twilio(settings.accountSid, settings.authToken, { httpClient: http, autoRetry: false });
      try {
        const created = await client.messages.create({
          to,
          from: settings.from,
          body,
          ...(settings.statusCallbackUrl
            ? { statusCallback: statusCallbackFor(settings.statusCallbackUrl, attempt.requestKey) }
            : {}),
        });
        const counted = countSegments(body);
        return {
          outcome: "accepted",
          providerMessageId: created.sid,
          detail: {
            status: created.status,
            numSegments: Number(created.numSegments),
            encoding: counted.encoding,
            segments: counted.segments,
          },
        };
      } catch (err) {
        return classifyTwilioError(err, http.lastHeaders, attempt.signal);
      }
    },
  };
}

/** twilio.validateRequest over a form body: the one check for both webhook routes. */
export function validTwilioSignature(
  authToken: string,
  signature: string | null,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}
