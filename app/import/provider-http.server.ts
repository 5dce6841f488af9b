// What every HTTP import source shares (HoneyBook, 17hats, LightBlue; Tave has
// its own copy from before): where the provider is, its rate limit, and one
// polite request loop (a token from the account's shared bucket before every
// call, 429 → the whole account waits out Retry-After, 5xx → back off).
import { eq } from "drizzle-orm";
import { z } from "zod";
import { connectors } from "../../db/schema";
import type { HubContext } from "../runtime/context.server";
import { sandboxSimulatorUrl } from "../connectors/sandbox.server";
import { acquireWait, block, bucketFor, type BucketSettings } from "./rate-limit.server";
import { SourceUnavailableError } from "./source";

/** Consecutive 429/5xx answers one request waits through before the job attempt gives up (graphile-worker retries it). */
export const MAX_TRIES = 30;
export const REQUEST_TIMEOUT_MS = 30_000;

/** Import settings on a connector's row (staff, tests, benches): where the provider is, a different limit. */
const importSettingsSchema = z.object({
  apiBaseUrl: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/)
    .optional()
    .catch(undefined),
  rateLimit: z
    .object({ requests: z.number().int().min(1), perSeconds: z.number().positive() })
    .optional()
    .catch(undefined),
});
export type ImportSettings = z.infer<typeof importSettingsSchema>;

export async function importSettings(ctx: HubContext, connectorId: string): Promise<ImportSettings> {
  const [row] = await ctx.db.select({ settings: connectors.settings }).from(connectors).where(eq(connectors.id, connectorId));
  return importSettingsSchema.parse(row?.settings ?? {});
}

/**
 * The provider's base URL, without a trailing slash: PROVIDER_API_ROOTS (config) →
 * the connector's settings.apiBaseUrl (how worker processes in tests and benches find
 * a simulator) → the sandbox's simulator → production.
 */
export function resolveApiBase(
  ctx: HubContext,
  connectorId: string,
  settings: ImportSettings,
  simulator: string,
  production: string,
): string {
  return (
    ctx.config.providerApiRoots[connectorId] ??
    settings.apiBaseUrl ??
    (ctx.config.mode === "sandbox" ? sandboxSimulatorUrl(ctx.config, simulator) : null) ??
    production
  ).replace(/\/+$/, "");
}

/** Retry-After is seconds or an HTTP date; missing or unreadable means "a second". */
export function retryAfterSeconds(value: string | null, now = Date.now()): number {
  if (!value) return 1;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1 : Math.max(0, Math.ceil((at - now) / 1000));
}

export interface LimitedFetcher {
  /**
   * fetch() behind the account's bucket. 429 and 5xx are retried here (up to
   * MAX_TRIES, then SourceUnavailableError); every other answer is returned for
   * the caller to judge (401 → refresh or re-sign in, 302 → session gone, …).
   */
  (url: string, init?: RequestInit & { signal?: AbortSignal }): Promise<Response>;
  bucketKey: string;
  bucket: BucketSettings;
}

export function limitedFetcher(
  ctx: HubContext,
  opts: { provider: string; bucketKey: string; limit: { requests: number; perSeconds: number } },
): LimitedFetcher {
  const bucket = bucketFor(opts.limit);
  const run = async (url: string, init: RequestInit & { signal?: AbortSignal } = {}): Promise<Response> => {
    let lastStatus = 0;
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      await acquireWait(ctx.db, opts.bucketKey, bucket, { signal: init.signal });
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      const res = await fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      if (res.status !== 429 && res.status < 500) return res;
      lastStatus = res.status;
      await res.body?.cancel();
      // Everyone using this account waits, not just this request.
      await block(
        ctx.db,
        opts.bucketKey,
        res.status === 429 ? retryAfterSeconds(res.headers.get("retry-after")) : Math.min(2 ** attempt, 30),
      );
    }
    throw new SourceUnavailableError(`${opts.provider} kept answering HTTP ${lastStatus} after ${MAX_TRIES} tries`, lastStatus);
  };
  return Object.assign(run, { bucketKey: opts.bucketKey, bucket });
}
