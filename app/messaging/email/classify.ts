// Shared by the email providers: how an HTTP status or a socket error becomes
// a SendResult. The line that matters is "did the request possibly reach the
// provider?": refused / DNS failures cannot have (failed), a reset or timeout
// after writing can have (ambiguous).
import type { SendResult } from "../types";

const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ERR_INVALID_URL"]);

export function fromHttpStatus(status: number, error: string, retryAfterMs?: number): SendResult {
  if (status === 429) return { outcome: "rate_limited", retryAfterMs: retryAfterMs ?? 1000, error, httpStatus: status };
  // Auth and configuration problems are the provider account's, not the message's: another provider may work.
  if (status === 401 || status === 403 || status === 404 || status === 408 || status >= 500)
    return { outcome: "failed", scope: "provider", error, httpStatus: status };
  return { outcome: "failed", scope: "message", error, httpStatus: status };
}

export function fromNetworkError(err: unknown): SendResult {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code && NOT_SENT_CODES.has(code)) return { outcome: "failed", scope: "provider", error: `${code}: ${message}` };
  return { outcome: "ambiguous", error: code ? `${code}: ${message}` : message };
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const direct = "code" in err && typeof err.code === "string" ? err.code : undefined;
  if (direct) return direct;
  const cause = "cause" in err ? err.cause : undefined;
  return cause && cause !== err ? errorCode(cause) : undefined;
}

/** Retry-After in seconds or as an HTTP date -> milliseconds. */
export function retryAfterMs(header: string | undefined | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export const formatFrom = (from: { email: string; name?: string }) =>
  from.name ? `"${from.name.replace(/"/g, "'")}" <${from.email}>` : from.email;
