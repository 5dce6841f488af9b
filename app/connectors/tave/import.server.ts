// Tave as an import source: GET /api/v2/clients page by page with the
// connection's API key (X-Api-Key), every request first taking a token from the
// account's shared bucket (Tave allows 100 requests per minute per account), a
// 429 blocking the bucket for the Retry-After it names before trying again.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { connectors } from "../../../db/schema";
import type { HubContext } from "../../runtime/context.server";
import { sandboxSimulatorUrl } from "../sandbox.server";
import { acquireWait, block, bucketFor } from "../../import/rate-limit.server";
import {
  SourceAuthError,
  SourceUnavailableError,
  type ImportConnection,
  type ImportSource,
  type ImportSourceFactory,
} from "../../import/source";
import { manifest } from "./manifest";

export const TAVE_API_BASE = "https://tave.io";
export const TAVE_MAX_PER_PAGE = 100;
/** Consecutive 429/5xx answers one page waits through before the job attempt gives up (graphile-worker retries it). */
const MAX_TRIES = 30;
const REQUEST_TIMEOUT_MS = 30_000;

/** Staff settings of the tave connector: where the API is (tests, benches) and a raised limit (benches). */
const settingsSchema = z.object({
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

const credentialsSchema = z.object({ apiKey: z.string().min(1) });

const href = z.object({ href: z.string() });
/** A page of GET /api/v2/clients. Records stay `unknown`: the mapping and its target validate them. */
const pageSchema = z.object({
  links: z.object({ next: href.nullable().optional() }).optional(),
  page: z.number().int().min(1),
  perPage: z.number().int().min(1),
  total: z.number().int().min(0),
  pageCount: z.number().int().min(0),
  items: z.array(z.unknown()),
});

const recordId = z.object({ id: z.union([z.string().min(1), z.number()]) });

const cursorSchema = z.object({ page: z.number().int().min(1) });

/** Retry-After is seconds or an HTTP date; missing or unreadable means "a second". */
export function retryAfterSeconds(value: string | null, now = Date.now()): number {
  if (!value) return 1;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1 : Math.max(0, Math.ceil((at - now) / 1000));
}

async function taveSettings(ctx: HubContext) {
  const [row] = await ctx.db.select({ settings: connectors.settings }).from(connectors).where(eq(connectors.id, "tave"));
  return settingsSchema.parse(row?.settings ?? {});
}

export const taveImportSource: ImportSourceFactory = async (ctx, connection: ImportConnection): Promise<ImportSource> => {
  if (!connection.credentialsEnc) throw new SourceAuthError("This Tave connection has no API key; reconnect it.");
  const creds = credentialsSchema.safeParse(ctx.vault.decryptJson<unknown>(connection.credentialsEnc));
  if (!creds.success) throw new SourceAuthError("This Tave connection's stored credentials have no API key; reconnect it.");
  const settings = await taveSettings(ctx);
  // Where the API is: PROVIDER_API_ROOTS (config) → the connector's settings.apiBaseUrl (how worker
  // processes in tests and benches find the simulator) → the sandbox's simulator → Tave itself.
  const base = (
    ctx.config.providerApiRoots.tave ??
    settings.apiBaseUrl ??
    (ctx.config.mode === "sandbox" ? sandboxSimulatorUrl(ctx.config, "tave") : null) ??
    TAVE_API_BASE
  ).replace(/\/+$/, "");
  const bucket = bucketFor(settings.rateLimit ?? manifest.rateLimit);
  // The limit is per Tave account: connections of the same account share one bucket.
  const bucketKey = `tave:${connection.accountId ?? connection.id}`;

  async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
    let lastStatus = 0;
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      await acquireWait(ctx.db, bucketKey, bucket, { signal });
      const res = await fetch(url, {
        headers: { "X-Api-Key": creds.data!.apiKey, Accept: "application/json" },
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
          : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.ok) return res.json();
      lastStatus = res.status;
      await res.body?.cancel();
      if (res.status === 401 || res.status === 403) throw new SourceAuthError(`Tave refused the API key (HTTP ${res.status}).`);
      if (res.status === 429) {
        // Everyone using this account waits, not just this request.
        await block(ctx.db, bucketKey, retryAfterSeconds(res.headers.get("retry-after")));
        continue;
      }
      if (res.status >= 500) {
        await block(ctx.db, bucketKey, Math.min(2 ** attempt, 30));
        continue;
      }
      throw new Error(`Tave answered HTTP ${res.status} for ${new URL(url).pathname}`);
    }
    throw new SourceUnavailableError(`Tave kept answering HTTP ${lastStatus} after ${MAX_TRIES} tries`, lastStatus);
  }

  return {
    connector: "tave",
    mappingSlug: "tave-client-to-wedsync-client",
    externalId(record) {
      const parsed = recordId.safeParse(record);
      return parsed.success ? String(parsed.data.id) : null;
    },
    async fetchPage(cursor, opts) {
      const page = cursor ? cursorSchema.parse(cursor).page : 1;
      const perPage = Math.min(Math.max(1, opts.pageSize), TAVE_MAX_PER_PAGE);
      const body = pageSchema.safeParse(await getJson(`${base}/api/v2/clients?page=${page}&per_page=${perPage}`, opts.signal));
      if (!body.success) throw new Error(`Tave sent a clients page we cannot read: ${z.prettifyError(body.error)}`);
      const last = body.data.items.length === 0 || !body.data.links?.next || page >= body.data.pageCount;
      return { records: body.data.items, next: last ? null : { page: page + 1 }, total: body.data.total };
    },
  };
};
