// LightBlue as an import source. LightBlue has no API, so the hub does what the
// studio's browser does: GET the login page (keeping its cookies and reading the
// form's hidden CSRF field), POST the stored username and password, keep the
// session cookie, and read the client list page by page as HTML with cheerio,
// each row turned into a plain object of the cells' text and checked with zod
// (the lightblue-row-to-wedsync-client mapping does the rest). Every request,
// sign-in included, takes a token from the account's bucket first: one request a
// second by default (staff can change it in the connector's settings.rateLimit),
// because a portal is run for people, not for us. A session that expires mid-run
// (a 302 to the login page) is signed in again once per page.
import * as cheerio from "cheerio";
import { z } from "zod";
import type { HubContext } from "../../runtime/context.server";
import { importSettings, limitedFetcher, resolveApiBase, type LimitedFetcher } from "../../import/provider-http.server";
import { SourceAuthError, type ImportConnection, type ImportSource, type ImportSourceFactory } from "../../import/source";
import { manifest } from "./manifest";

/** Where the portal is when neither config, settings nor the sandbox say otherwise. */
export const LIGHTBLUE_PORTAL_BASE = "https://app.lightblue.software";

const credentialsSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

/** One client row, as text; `id` is the row's data-client-id. Blank cells are "". */
export const lightBlueRowSchema = z.object({
  id: z.string().trim().min(1),
  name: z.string(),
  partner: z.string(),
  email: z.string(),
  phone: z.string(),
  weddingDate: z.string(),
  venue: z.string(),
  guests: z.string(),
});
export type LightBlueRow = z.infer<typeof lightBlueRowSchema>;

/** Column headers as the portal shows them → row fields (matched by header text, not position). */
const COLUMNS: Record<string, keyof Omit<LightBlueRow, "id">> = {
  client: "name",
  partner: "partner",
  email: "email",
  phone: "phone",
  "wedding date": "weddingDate",
  venue: "venue",
  guests: "guests",
};

const cursorSchema = z.object({ page: z.number().int().min(1) });
const recordId = z.object({ id: z.string().min(1) });

export class LightBlueSignInError extends SourceAuthError {}

/** A tiny cookie jar: name → value for one origin (all the portal needs). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const i = pair!.indexOf("=");
      if (i <= 0) continue;
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  clear(): void {
    this.cookies.clear();
  }
}

export interface LightBluePage {
  rows: unknown[];
  nextPage: number | null;
  total: number | null;
}

/** Read one client-list page: the rows (validated objects, or the raw cells when a row is unreadable), the next page, the total. */
export function parseClientListPage(html: string): LightBluePage {
  const $ = cheerio.load(html);
  const table = $("table#clients").first();
  if (!table.length) throw new Error("LightBlue's client list has no clients table (the portal's page has changed?)");
  const headers = table
    .find("thead th")
    .map((_i, th) => $(th).text().trim().toLowerCase())
    .get();
  const rows: unknown[] = [];
  table.find("tbody tr").each((_i, tr) => {
    const cells: Record<string, string> = { id: ($(tr).attr("data-client-id") ?? "").trim() };
    $(tr)
      .children("td")
      .each((j, td) => {
        const field = COLUMNS[headers[j] ?? ""];
        if (field) cells[field] = $(td).text().trim();
      });
    const row = lightBlueRowSchema.safeParse(cells);
    // An unreadable row is still handed over, so the engine reports it (by id when it has one) and carries on.
    rows.push(row.success ? row.data : cells);
  });
  const next = $('a[rel="next"]').attr("href");
  const nextPage = next ? Number(new URL(next, "http://portal.invalid").searchParams.get("page")) : NaN;
  const total = Number($("[data-total]").first().attr("data-total"));
  return {
    rows,
    nextPage: Number.isInteger(nextPage) && nextPage >= 1 ? nextPage : null,
    total: Number.isInteger(total) && total >= 0 ? total : null,
  };
}

/** Sign in through the login form. Throws LightBlueSignInError when the portal refuses the username and password. */
async function signIn(
  base: string,
  http: LimitedFetcher,
  jar: CookieJar,
  creds: z.infer<typeof credentialsSchema>,
  signal?: AbortSignal,
) {
  jar.clear();
  const form = await http(`${base}/login`, { headers: { Accept: "text/html" }, redirect: "manual", signal });
  jar.take(form);
  if (!form.ok) throw new Error(`LightBlue's login page answered HTTP ${form.status}`);
  const $ = cheerio.load(await form.text());
  const $form = $("form")
    .filter((_i, f) => $(f).find('input[type="password"]').length > 0)
    .first();
  if (!$form.length) throw new Error("LightBlue's login page has no sign-in form (the portal's page has changed?)");
  // Every hidden field goes back as it came: the CSRF token among them, whatever the portal names it.
  const body = new URLSearchParams();
  $form.find('input[type="hidden"]').each((_i, el) => {
    const name = $(el).attr("name");
    if (name) body.set(name, $(el).attr("value") ?? "");
  });
  const userField = $form.find('input[type="text"], input[type="email"], input:not([type])').first().attr("name") ?? "username";
  const passField = $form.find('input[type="password"]').first().attr("name") ?? "password";
  body.set(userField, creds.username);
  body.set(passField, creds.password);
  const action = new URL($form.attr("action") || "/login", `${base}/login`).toString();
  const res = await http(action, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: jar.header(), Accept: "text/html" },
    redirect: "manual",
    signal,
  });
  jar.take(res);
  await res.body?.cancel();
  // Signed in = redirected onwards with a session; the form shown again = refused.
  if (res.status === 302 || res.status === 303) return;
  if (res.status === 200 || res.status === 401)
    throw new LightBlueSignInError(
      `LightBlue refused the username and password for "${creds.username}". Check them and reconnect LightBlue.`,
      401,
    );
  throw new Error(`LightBlue's sign-in answered HTTP ${res.status}`);
}

export async function lightBlueTarget(ctx: HubContext) {
  const settings = await importSettings(ctx, manifest.id);
  return {
    base: resolveApiBase(ctx, manifest.id, settings, "lightblue-portal", LIGHTBLUE_PORTAL_BASE),
    limit: settings.rateLimit ?? manifest.rateLimit,
  };
}

/** Sign in once and read the first page: what the credential test needs. */
export async function probeLightBlue(ctx: HubContext, values: Record<string, string>): Promise<{ clients: number | null }> {
  const creds = credentialsSchema.parse(values);
  const { base, limit } = await lightBlueTarget(ctx);
  const http = limitedFetcher(ctx, { provider: "LightBlue", bucketKey: `lightblue:${creds.username}`, limit });
  const jar = new CookieJar();
  await signIn(base, http, jar, creds);
  const res = await http(`${base}/clients?page=1`, {
    headers: { Cookie: jar.header(), Accept: "text/html" },
    redirect: "manual",
  });
  if (!res.ok) throw new Error(`LightBlue's client list answered HTTP ${res.status} right after signing in`);
  return { clients: parseClientListPage(await res.text()).total };
}

export const lightblueImportSource: ImportSourceFactory = async (ctx, connection: ImportConnection): Promise<ImportSource> => {
  const parsed = connection.credentialsEnc
    ? credentialsSchema.safeParse(ctx.vault.decryptJson<unknown>(connection.credentialsEnc))
    : null;
  if (!parsed?.success) throw new SourceAuthError("This LightBlue connection has no username and password; reconnect it.", 401);
  const creds = parsed.data;
  const { base, limit } = await lightBlueTarget(ctx);
  // One studio login = one bucket, however many connections or workers read it.
  const http = limitedFetcher(ctx, {
    provider: "LightBlue",
    bucketKey: `lightblue:${connection.accountId ?? creds.username}`,
    limit,
  });
  const jar = new CookieJar();
  let signedIn = false;

  return {
    connector: manifest.id,
    mappingSlug: "lightblue-row-to-wedsync-client",
    externalId(record) {
      const r = recordId.safeParse(record);
      return r.success ? r.data.id : null;
    },
    async fetchPage(cursor, opts) {
      const page = cursor ? cursorSchema.parse(cursor).page : 1;
      for (let attempt = 1; ; attempt++) {
        if (!signedIn) {
          await signIn(base, http, jar, creds, opts.signal);
          signedIn = true;
        }
        const res = await http(`${base}/clients?page=${page}`, {
          headers: { Cookie: jar.header(), Accept: "text/html" },
          redirect: "manual",
          signal: opts.signal,
        });
        jar.take(res);
        if (res.status === 302 || res.status === 303 || res.status === 401) {
          await res.body?.cancel();
          // The session ended (timeout, signed in elsewhere): sign in again, once for this page.
          signedIn = false;
          if (attempt >= 2)
            throw new SourceAuthError("LightBlue keeps ending the session right after signing in; try again later.", 401);
          continue;
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`LightBlue's client list answered HTTP ${res.status}`);
        }
        const parsedPage = parseClientListPage(await res.text());
        return {
          records: parsedPage.rows,
          next: parsedPage.nextPage && parsedPage.rows.length > 0 ? { page: parsedPage.nextPage } : null,
          total: parsedPage.total,
        };
      }
    },
  };
};
