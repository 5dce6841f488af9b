// One HTTP attempt: POST through the SSRF-guarded dispatcher, no redirects,
// connect and response timeouts, and at most a few KB of the answer kept.
import { errors as undiciErrors, request, type Dispatcher } from "undici";
import type { WebhooksOutConfig } from "./config";
import { compilePolicy, createGuardedAgent, SsrfRefusedError, type Resolver } from "./ssrf";

export interface AttemptResult {
  outcome: "succeeded" | "failed" | "timeout" | "refused";
  httpStatus: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** The connection itself failed (refused, reset): nothing was received, so trying again at once is safe. */
  connectionFailed?: boolean;
}

const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

const agents = new WeakMap<WebhooksOutConfig, Dispatcher>();

/** The process's dispatcher for a configuration (one connection pool, keep-alive per receiver). */
export function dispatcherFor(config: WebhooksOutConfig, resolve?: Resolver): Dispatcher {
  if (resolve)
    return createGuardedAgent(compilePolicy({ allowHttp: config.allowHttp, allow: config.ssrfAllow }), { ...config, resolve });
  let agent = agents.get(config);
  if (!agent) {
    agent = createGuardedAgent(compilePolicy({ allowHttp: config.allowHttp, allow: config.ssrfAllow }), config);
    agents.set(config, agent);
  }
  return agent;
}

function causeOf(err: unknown): unknown {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    if (e instanceof SsrfRefusedError) return e;
    if (!e.cause) break;
    e = e.cause;
  }
  return e;
}

async function readExcerpt(body: Dispatcher.ResponseData["body"], cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= cap) break;
  }
  // Breaking out of the iterator destroys the rest of a large answer instead of downloading it.
  return Buffer.concat(chunks).subarray(0, cap).toString("utf8");
}

export async function postWebhook(
  dispatcher: Dispatcher,
  config: WebhooksOutConfig,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { outcome: "refused", httpStatus: null, durationMs: 0, responseExcerpt: null, error: "Not a valid URL" };
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && config.allowHttp))
    return { outcome: "refused", httpStatus: null, durationMs: 0, responseExcerpt: null, error: "The URL must use https" };
  try {
    const res = await request(parsed, {
      method: "POST",
      dispatcher,
      headers: { "content-type": "application/json", "user-agent": "WedSync-Hub-Webhooks/1", ...headers },
      body,
      maxRedirections: 0,
      headersTimeout: config.responseTimeoutMs,
      bodyTimeout: config.responseTimeoutMs,
    });
    const excerpt = await readExcerpt(res.body, config.responseExcerptBytes).catch(() => "");
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const location = res.headers.location;
    return {
      outcome: ok ? "succeeded" : "failed",
      httpStatus: res.statusCode,
      durationMs: elapsed(),
      responseExcerpt: excerpt || null,
      error: ok
        ? null
        : res.statusCode >= 300 && res.statusCode < 400
          ? `Redirect not followed (${res.statusCode}${location ? ` to ${String(location).slice(0, 200)}` : ""})`
          : `HTTP ${res.statusCode}`,
    };
  } catch (err) {
    const cause = causeOf(err);
    if (cause instanceof SsrfRefusedError)
      return { outcome: "refused", httpStatus: null, durationMs: elapsed(), responseExcerpt: null, error: cause.message };
    const timeout =
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError ||
      err instanceof undiciErrors.ConnectTimeoutError;
    const message = cause instanceof Error ? cause.message : String(cause);
    const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "";
    return {
      connectionFailed: !timeout && CONNECTION_ERRORS.has(code),
      outcome: timeout ? "timeout" : "failed",
      httpStatus: null,
      durationMs: elapsed(),
      responseExcerpt: null,
      error: message.slice(0, 500),
    };
  }
}
