// 17hats as an import source: GET /api/v1/contacts page by page with the
// account's API key (X-API-KEY), each request first taking a token from the
// account's shared bucket (60 requests per minute), 429 → the account waits out
// Retry-After (app/import/provider-http.server.ts).
import { z } from "zod";
import type { HubContext } from "../../runtime/context.server";
import { importSettings, limitedFetcher, resolveApiBase } from "../../import/provider-http.server";
import { SourceAuthError, type ImportConnection, type ImportSource, type ImportSourceFactory } from "../../import/source";
import { manifest } from "./manifest";

export const SEVENTEEN_HATS_API_BASE = "https://api.17hats.com";
export const SEVENTEEN_HATS_MAX_PER_PAGE = 100;

const credentialsSchema = z.object({ apiKey: z.string().min(1) });

/** A page of GET /api/v1/contacts. Contacts stay `unknown`: the mapping and its target validate them. */
const pageSchema = z.object({
  contacts: z.array(z.unknown()),
  meta: z.object({
    page: z.number().int().min(1),
    per_page: z.number().int().min(1),
    total: z.number().int().min(0),
    total_pages: z.number().int().min(0),
  }),
});
const recordId = z.object({ id: z.union([z.number().int(), z.string().min(1)]) });
const cursorSchema = z.object({ page: z.number().int().min(1) });
const accountSchema = z.object({ id: z.union([z.number(), z.string()]), business_name: z.string().nullish() });

export async function seventeenHatsApiBase(
  ctx: HubContext,
): Promise<{ base: string; limit: { requests: number; perSeconds: number } }> {
  const settings = await importSettings(ctx, manifest.id);
  return {
    base: resolveApiBase(ctx, manifest.id, settings, "seventeen-hats", SEVENTEEN_HATS_API_BASE),
    limit: settings.rateLimit ?? manifest.rateLimit,
  };
}

/** Who the key belongs to (the credential test's "Connected as"); null when 17hats refuses the key. */
export async function seventeenHatsAccount(base: string, apiKey: string): Promise<{ id: string; label: string } | null> {
  const res = await fetch(`${base}/api/v1/account`, {
    headers: { "X-API-KEY": apiKey, Accept: "application/json" },
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status === 401 || res.status === 403) return null;
  if (!res.ok) throw new Error(`17hats answered HTTP ${res.status}`);
  const body = accountSchema.parse(await res.json());
  return { id: String(body.id), label: body.business_name || `17hats account ${body.id}` };
}

export const seventeenHatsImportSource: ImportSourceFactory = async (
  ctx,
  connection: ImportConnection,
): Promise<ImportSource> => {
  if (!connection.credentialsEnc) throw new SourceAuthError("This 17hats connection has no API key; reconnect it.", 401);
  const creds = credentialsSchema.safeParse(ctx.vault.decryptJson<unknown>(connection.credentialsEnc));
  if (!creds.success)
    throw new SourceAuthError("This 17hats connection's stored credentials have no API key; reconnect it.", 401);
  const apiKey = creds.data.apiKey;
  const { base, limit } = await seventeenHatsApiBase(ctx);
  // The limit is per 17hats account: connections of the same account share one bucket.
  const http = limitedFetcher(ctx, {
    provider: "17hats",
    bucketKey: `seventeen-hats:${connection.accountId ?? connection.id}`,
    limit,
  });

  return {
    connector: manifest.id,
    mappingSlug: "seventeen-hats-contact-to-wedsync-client",
    externalId(record) {
      const parsed = recordId.safeParse(record);
      return parsed.success ? String(parsed.data.id) : null;
    },
    async fetchPage(cursor, opts) {
      const page = cursor ? cursorSchema.parse(cursor).page : 1;
      const perPage = Math.min(Math.max(1, opts.pageSize), SEVENTEEN_HATS_MAX_PER_PAGE);
      const res = await http(`${base}/api/v1/contacts?page=${page}&per_page=${perPage}`, {
        headers: { "X-API-KEY": apiKey, Accept: "application/json" },
        signal: opts.signal,
      });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new SourceAuthError(`17hats refused the API key (HTTP ${res.status}); reconnect with a current key.`, res.status);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`17hats answered HTTP ${res.status} for /api/v1/contacts`);
      }
      const body = pageSchema.safeParse(await res.json());
      if (!body.success) throw new Error(`17hats sent a contacts page we cannot read: ${z.prettifyError(body.error)}`);
      const last = body.data.contacts.length === 0 || page >= body.data.meta.total_pages;
      return { records: body.data.contacts, next: last ? null : { page: page + 1 }, total: body.data.meta.total };
    },
  };
};
