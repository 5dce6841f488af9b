// HoneyBook as an import source, with the connection's OAuth access token. A page
// is one page of the project list (GET /api/v2/client/events?page=N; HoneyBook
// fixes the page size) and then each project's details
// (GET /api/v2/events/{id}/details), with the list's `is_booked` merged in: the
// record the honeybook-project-to-wedsync-client mapping reads. Every request
// takes a token from the account's bucket first (120 per minute).
//
// A 401 means the access token has expired or been revoked. The import engine has
// no refresh hook (the calendar sync has one, app/calendar/sync.server.ts), so the
// source does the same here: re-read the stored token (the refresh job may have
// rotated it already), else refresh it once through refreshConnectionToken (row
// locked, so it never races the refresh job) and retry; a second 401, or a refresh
// HoneyBook refuses, is a SourceAuthError with status 401: the vendor must reconnect.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { connections } from "../../../db/schema";
import type { HubContext } from "../../runtime/context.server";
import { refreshConnectionToken } from "../../oauth/tokens.server";
import { importSettings, limitedFetcher, resolveApiBase } from "../../import/provider-http.server";
import { SourceAuthError, type ImportConnection, type ImportSource, type ImportSourceFactory } from "../../import/source";
import { manifest } from "./manifest";

export const HONEYBOOK_API_BASE = "https://api.honeybook.com";
/** Project details fetched at once within a page (the bucket still paces them). */
const DETAIL_CONCURRENCY = 4;

const tokensSchema = z.object({ accessToken: z.string().min(1), refreshToken: z.string().optional() });

/** A page of GET /api/v2/client/events, as honeybook-mcp observed it. Items are checked one by one below. */
const listSchema = z.object({
  data: z.array(z.unknown()),
  cur_page: z.number().int().min(1).nullish(),
  total_pages: z.number().int().min(0).optional(),
  last_page: z.boolean().optional(),
});
const listItemSchema = z.object({ _id: z.string().min(1), is_booked: z.boolean().nullish() });
/** Details stay otherwise untouched: the mapping and its target validate them. */
const detailsSchema = z.looseObject({ _id: z.string().min(1) });
const recordId = z.object({ _id: z.string().min(1) });
const cursorSchema = z.object({ page: z.number().int().min(1), listed: z.number().int().min(0).default(0) });

/** Run `fn` over `items`, at most `limit` at a time, keeping order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const honeybookImportSource: ImportSourceFactory = async (
  ctx: HubContext,
  connection: ImportConnection,
): Promise<ImportSource> => {
  const readToken = (enc: string | null): string => {
    const parsed = enc ? tokensSchema.safeParse(ctx.vault.decryptJson<unknown>(enc)) : null;
    if (!parsed?.success) throw new SourceAuthError("This HoneyBook connection has no access token; reconnect it.", 401);
    return parsed.data.accessToken;
  };
  const storedToken = async (): Promise<string> => {
    const [row] = await ctx.db
      .select({ credentialsEnc: connections.credentialsEnc, status: connections.status })
      .from(connections)
      .where(eq(connections.id, connection.id));
    if (!row || row.status !== "active")
      throw new SourceAuthError("This HoneyBook connection is no longer active; reconnect it.", 401);
    return readToken(row.credentialsEnc);
  };

  let token = readToken(connection.credentialsEnc);
  /** One refresh at a time: the details of a page are fetched concurrently and may all see the same 401. */
  let refreshing: Promise<void> | null = null;
  const renewAfter401 = async (used: string): Promise<void> => {
    if (token !== used) return; // another request of this run already renewed it
    refreshing ??= (async () => {
      const stored = await storedToken();
      if (stored !== used) {
        token = stored; // the refresh job rotated it meanwhile
        return;
      }
      const outcome = await refreshConnectionToken(ctx, connection.id, { force: true });
      if (outcome !== "refreshed")
        throw new SourceAuthError(
          outcome === "needs-reconnect"
            ? "HoneyBook no longer accepts this connection (its token could not be refreshed); reconnect it."
            : "This HoneyBook connection is no longer active; reconnect it.",
          401,
        );
      token = await storedToken();
    })().finally(() => {
      refreshing = null;
    });
    await refreshing;
  };

  const settings = await importSettings(ctx, manifest.id);
  const base = resolveApiBase(ctx, manifest.id, settings, "honeybook-api", HONEYBOOK_API_BASE);
  const http = limitedFetcher(ctx, {
    provider: "HoneyBook",
    bucketKey: `honeybook:${connection.accountId ?? connection.id}`,
    limit: settings.rateLimit ?? manifest.rateLimit,
  });

  /** GET a JSON resource with the current token; null for 404 (a project deleted since the list was read). */
  async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    for (let round = 1; ; round++) {
      const used = token;
      const res = await http(`${base}${path}`, {
        headers: { Authorization: `Bearer ${used}`, Accept: "application/json" },
        signal,
      });
      if (res.ok) return res.json();
      await res.body?.cancel();
      if (res.status === 401 && round === 1) {
        await renewAfter401(used);
        continue;
      }
      if (res.status === 401 || res.status === 403)
        throw new SourceAuthError(
          `HoneyBook refused this connection's access token (HTTP ${res.status}); reconnect it.`,
          res.status,
        );
      if (res.status === 404) return null;
      throw new Error(`HoneyBook answered HTTP ${res.status} for ${path.split("?")[0]}`);
    }
  }

  return {
    connector: manifest.id,
    mappingSlug: "honeybook-project-to-wedsync-client",
    externalId(record) {
      const parsed = recordId.safeParse(record);
      return parsed.success ? parsed.data._id : null;
    },
    async fetchPage(cursor, opts) {
      const page = cursor ? cursorSchema.parse(cursor).page : 1;
      const list = listSchema.safeParse(await getJson(`/api/v2/client/events?page=${page}`, opts.signal));
      if (!list.success) throw new Error(`HoneyBook sent a project list we cannot read: ${z.prettifyError(list.error)}`);
      const records = await mapLimited(list.data.data, DETAIL_CONCURRENCY, async (raw): Promise<unknown> => {
        const item = listItemSchema.safeParse(raw);
        if (!item.success) return raw; // no usable _id: the engine reports it as a failed record
        const details = await getJson(`/api/v2/events/${encodeURIComponent(item.data._id)}/details`, opts.signal);
        if (details === null) return null;
        const parsed = detailsSchema.safeParse(details);
        if (!parsed.success) return { _id: item.data._id, is_booked: item.data.is_booked };
        return { ...parsed.data, is_booked: item.data.is_booked ?? null };
      });
      const last = list.data.data.length === 0 || list.data.last_page === true || page >= (list.data.total_pages ?? page);
      // HoneyBook gives pages, not a count: the cursor carries how many were listed so far,
      // so the total is exact once the last page is read (unknown until then).
      const listed = (cursor ? cursorSchema.parse(cursor).listed : 0) + list.data.data.length;
      return {
        records: records.filter((r) => r !== null),
        next: last ? null : { page: page + 1, listed },
        total: last ? listed : null,
      };
    },
  };
};
