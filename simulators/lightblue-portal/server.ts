// LightBlue web-portal simulator. LightBlue has no API: the hub signs in as the
// studio and reads its client list as HTML. This imitates such a portal closely
// enough to exercise that code: a login form with a CSRF hidden field bound to a
// pre-login cookie, a session cookie on success (the form again with an error
// on a wrong password), a paginated client table with a "Next page" link, and a
// 302 to the login page whenever the session is missing or has expired
// (expireSessions(), or an account's sessionMaxPages for "expires mid-run").
// Every request is timestamped, so tests can check the hub's politeness.
import crypto from "node:crypto";
import express from "express";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { pad2, pick, prng } from "../prng.js";

export const LIGHTBLUE_DEFAULT_PAGE_SIZE = 25;
export const LIGHTBLUE_SESSION_COOKIE = "lb_session";
const LOGIN_COOKIE = "lb_login";

/** One row of the client list as the portal shows it (all text, as typed into LightBlue). */
export interface LightBlueClient {
  id: string;
  name: string;
  partner: string;
  email: string;
  phone: string;
  /** dd/mm/yyyy, as a UK portal shows it. */
  weddingDate: string;
  venue: string;
  guests: string;
}

export interface LightBlueAccountInput {
  username: string;
  password: string;
  studioName?: string;
  count?: number;
  seed?: number;
  /** Indexes whose email is malformed ("name@gmail"). */
  malformedEmail?: number[];
  /** Indexes whose wedding date does not exist ("31/02/2027"). */
  malformedDate?: number[];
  clients?: LightBlueClient[];
  /** A session expires after this many client-list pages (simulates a timeout mid-run). */
  sessionMaxPages?: number;
}

export interface LightBlueStats {
  loginAttempts: number;
  loginFailures: number;
  logins: number;
  pages: number;
  /** Client-list requests redirected to the login page (no or expired session). */
  redirectsToLogin: number;
}

export interface LightBlueControl {
  addAccount(input: LightBlueAccountInput): { username: string; clients: number };
  clients(username: string): LightBlueClient[];
  updateClient(username: string, id: string, change: (c: LightBlueClient) => void): LightBlueClient;
  setSessionMaxPages(username: string, pages: number | null): void;
  /** Ends every session of the account now (the next page request is sent to the login page). */
  expireSessions(username: string): number;
  stats(username: string): LightBlueStats;
  /** Arrival time (epoch ms) and path of every portal request, oldest first. */
  requestLog(): { at: number; path: string }[];
  setPageSize(size: number): void;
  reset(): void;
}

export interface LightBluePortalSimulatorDefinition extends SimulatorDefinition {
  control: LightBlueControl;
}

export interface LightBluePortalSimulatorOptions {
  accounts?: LightBlueAccountInput[];
  pageSize?: number;
}

interface Account {
  username: string;
  password: string;
  studioName: string;
  clients: Map<string, LightBlueClient>;
  sorted: LightBlueClient[] | null;
  sessionMaxPages: number | null;
  stats: LightBlueStats;
}

const FIRST = ["Emily", "James", "Charlotte", "Oliver", "Amelia", "Harry", "Isla", "George", "Freya", "Arthur", "Poppy", "Alfie"];
const LAST = ["Taylor", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green"];
const VENUES = ["Hedsor House", "Kew Gardens", "Elmore Court", "Pennard House", "The Barn at Bury Court", ""];

/** Deterministic clients: same seed and count → the same rows. */
export function generateLightBlueClients(opts: {
  count: number;
  seed?: number;
  offset?: number;
  malformedEmail?: number[];
  malformedDate?: number[];
}): LightBlueClient[] {
  const out: LightBlueClient[] = [];
  const badEmail = new Set(opts.malformedEmail ?? []);
  const badDate = new Set(opts.malformedDate ?? []);
  for (let i = opts.offset ?? 0; i < (opts.offset ?? 0) + opts.count; i++) {
    const random = prng((opts.seed ?? 1) * 1_000_003 + i + 29);
    const first = pick(random, FIRST);
    const last = pick(random, LAST);
    const partner = random() < 0.8 ? `${pick(random, FIRST)} ${pick(random, LAST)}` : "";
    const line = String(100000 + Math.floor(random() * 900000));
    const guests = random();
    out.push({
      id: `LB-${10001 + i}`,
      name: `${first} ${last}`,
      partner,
      email: `${first}.${last}.${i}@${badEmail.has(i) ? "gmail" : "example.co.uk"}`.toLowerCase(),
      phone: random() < 0.85 ? `07${700 + Math.floor(random() * 299)} ${line}` : "",
      weddingDate: badDate.has(i)
        ? "31/02/2027"
        : `${pad2(1 + Math.floor(random() * 28))}/${pad2(1 + Math.floor(random() * 12))}/2027`,
      venue: pick(random, VENUES),
      guests:
        guests < 0.7 ? String(40 + Math.floor(random() * 160)) : guests < 0.85 ? `${80 + Math.floor(random() * 20)}-120` : "",
    });
  }
  return out;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function cookiesOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>${escapeHtml(title)} · LightBlue</title></head>` +
  `<body><header><a href="/clients" class="brand">LightBlue</a></header><main>${body}</main></body></html>`;

const accountSchema = z.strictObject({
  username: z.string().min(1),
  password: z.string().min(1),
  studioName: z.string().optional(),
  count: z.number().int().min(0).max(100_000).optional(),
  seed: z.number().int().optional(),
  malformedEmail: z.array(z.number().int().min(0)).optional(),
  malformedDate: z.array(z.number().int().min(0)).optional(),
  sessionMaxPages: z.number().int().min(1).optional(),
});

const loginBody = z.object({
  authenticity_token: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  next: z.string().optional(),
});

export function createLightBluePortalSimulator(opts: LightBluePortalSimulatorOptions = {}): LightBluePortalSimulatorDefinition {
  let pageSize = opts.pageSize ?? LIGHTBLUE_DEFAULT_PAGE_SIZE;
  const accounts = new Map<string, Account>();
  /** Pre-login cookie → the CSRF token its form carried (single use). */
  const loginForms = new Map<string, string>();
  const sessions = new Map<string, { username: string; pages: number }>();
  let log: { at: number; path: string }[] = [];

  const account = (username: string): Account => {
    const a = accounts.get(username);
    if (!a) throw new Error(`lightblue-portal simulator: no account ${username}`);
    return a;
  };
  const sorted = (a: Account) =>
    (a.sorted ??= [...a.clients.values()].sort((x, y) => Number(x.id.replace(/\D/g, "")) - Number(y.id.replace(/\D/g, ""))));

  const control: LightBlueControl = {
    addAccount(input) {
      const a: Account = {
        username: input.username,
        password: input.password,
        studioName: input.studioName ?? `${input.username}'s studio`,
        clients: new Map(),
        sorted: null,
        sessionMaxPages: input.sessionMaxPages ?? null,
        stats: { loginAttempts: 0, loginFailures: 0, logins: 0, pages: 0, redirectsToLogin: 0 },
      };
      const generated = input.count ? generateLightBlueClients({ ...input, count: input.count }) : [];
      for (const c of [...generated, ...(input.clients ?? [])]) a.clients.set(c.id, { ...c });
      accounts.set(input.username, a);
      return { username: a.username, clients: a.clients.size };
    },
    clients: (username) => sorted(account(username)).map((c) => ({ ...c })),
    updateClient(username, id, change) {
      const a = account(username);
      const current = a.clients.get(id);
      if (!current) throw new Error(`lightblue-portal simulator: no client ${id}`);
      const next = { ...current };
      change(next);
      a.clients.set(id, next);
      a.sorted = null;
      return { ...next };
    },
    setSessionMaxPages(username, pages) {
      account(username).sessionMaxPages = pages;
    },
    expireSessions(username) {
      let n = 0;
      for (const [id, s] of sessions)
        if (s.username === username) {
          sessions.delete(id);
          n++;
        }
      return n;
    },
    stats: (username) => ({ ...account(username).stats }),
    requestLog: () => log.map((r) => ({ ...r })),
    setPageSize(size) {
      pageSize = z.number().int().min(1).max(1000).parse(size);
    },
    reset() {
      accounts.clear();
      loginForms.clear();
      sessions.clear();
      log = [];
    },
  };
  for (const a of opts.accounts ?? []) control.addAccount(a);

  function loginPage(res: Response, status: number, next: string, error?: string): void {
    const loginId = crypto.randomBytes(16).toString("base64url");
    const token = crypto.randomBytes(24).toString("base64url");
    loginForms.set(loginId, token);
    res
      .status(status)
      .cookie(LOGIN_COOKIE, loginId, { httpOnly: true, sameSite: "lax", path: "/" })
      .type("html")
      .send(
        page(
          "Sign in",
          `<h1>Sign in to LightBlue</h1>` +
            (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : "") +
            `<form method="post" action="/login" id="login-form">` +
            `<input type="hidden" name="authenticity_token" value="${escapeHtml(token)}">` +
            `<input type="hidden" name="next" value="${escapeHtml(next)}">` +
            `<label>Username <input type="text" name="username" autocomplete="username"></label>` +
            `<label>Password <input type="password" name="password" autocomplete="current-password"></label>` +
            `<button type="submit">Sign in</button></form>`,
        ),
      );
  }

  /** Only same-site paths, so the login form is no open redirect. */
  const safeNext = (next: string | undefined) => (next && /^\/(?!\/)[^\s]*$/.test(next) ? next : "/clients");

  function routes(router: Router, _ctx: SimulatorContext): void {
    router.use((req, _res, next) => {
      log.push({ at: Date.now(), path: req.path });
      next();
    });
    router.use(express.urlencoded({ extended: false }));

    router.get("/", (_req, res) => res.redirect(302, "/clients"));
    router.get("/login", (req, res) =>
      loginPage(res, 200, safeNext(typeof req.query.next === "string" ? req.query.next : undefined)),
    );

    router.post("/login", (req, res) => {
      const body = loginBody.safeParse(req.body ?? {});
      const loginId = cookiesOf(req)[LOGIN_COOKIE];
      const expected = loginId ? loginForms.get(loginId) : undefined;
      if (loginId) loginForms.delete(loginId);
      if (!body.success || !expected || body.data.authenticity_token !== expected) {
        res
          .status(403)
          .type("html")
          .send(page("Expired form", "<h1>This form has expired</h1><p>Reload the page and sign in again.</p>"));
        return;
      }
      const next = safeNext(body.data.next);
      const a = accounts.get(body.data.username ?? "");
      if (a) a.stats.loginAttempts++;
      if (!a || a.password !== body.data.password) {
        if (a) a.stats.loginFailures++;
        loginPage(res, 200, next, "Incorrect username or password.");
        return;
      }
      a.stats.logins++;
      const sessionId = crypto.randomBytes(24).toString("base64url");
      sessions.set(sessionId, { username: a.username, pages: 0 });
      res.cookie(LIGHTBLUE_SESSION_COOKIE, sessionId, { httpOnly: true, sameSite: "lax", path: "/" }).redirect(302, next);
    });

    router.get("/clients", (req, res) => {
      const sessionId = cookiesOf(req)[LIGHTBLUE_SESSION_COOKIE];
      const session = sessionId ? sessions.get(sessionId) : undefined;
      const a = session ? accounts.get(session.username) : undefined;
      if (!session || !a || (a.sessionMaxPages !== null && session.pages >= a.sessionMaxPages)) {
        if (sessionId) sessions.delete(sessionId);
        if (a) a.stats.redirectsToLogin++;
        res.redirect(302, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      const n = z.coerce.number().int().min(1).catch(1).parse(req.query.page);
      session.pages++;
      a.stats.pages++;
      const all = sorted(a);
      const rows = all.slice((n - 1) * pageSize, n * pageSize);
      const last = n * pageSize >= all.length;
      const cell = (v: string) => `<td>${escapeHtml(v)}</td>`;
      res
        .type("html")
        .send(
          page(
            "Clients",
            `<h1>Clients · ${escapeHtml(a.studioName)}</h1>` +
              `<p class="summary" data-total="${all.length}">Showing ${rows.length ? (n - 1) * pageSize + 1 : 0}–${(n - 1) * pageSize + rows.length} of ${all.length} clients</p>` +
              `<table id="clients"><thead><tr><th>Client</th><th>Partner</th><th>Email</th><th>Phone</th><th>Wedding date</th><th>Venue</th><th>Guests</th></tr></thead><tbody>` +
              rows
                .map(
                  (c) =>
                    `<tr data-client-id="${escapeHtml(c.id)}"><td><a href="/clients/${encodeURIComponent(c.id)}">${escapeHtml(c.name)}</a></td>` +
                    [c.partner, c.email, c.phone, c.weddingDate, c.venue, c.guests].map(cell).join("") +
                    `</tr>`,
                )
                .join("") +
              `</tbody></table><nav class="pagination">` +
              (n > 1 ? `<a rel="prev" href="/clients?page=${n - 1}">« Previous page</a>` : "") +
              (last ? "" : `<a rel="next" href="/clients?page=${n + 1}">Next page »</a>`) +
              `</nav>`,
          ),
        );
    });
  }

  function controlRoutes(router: Router): void {
    const r = express.Router();
    r.post("/accounts", (req, res) => {
      const parsed = accountSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        res.status(400).json({ error: { code: 400, message: z.prettifyError(parsed.error) } });
        return;
      }
      res.status(201).json(control.addAccount(parsed.data));
    });
    r.post("/accounts/:username/expire-sessions", (req, res) => {
      if (!accounts.has(req.params.username ?? "")) res.status(404).json({ error: { code: 404, message: "No such account" } });
      else res.json({ expired: control.expireSessions(req.params.username!) });
    });
    r.get("/accounts/:username/stats", (req, res) => {
      if (!accounts.has(req.params.username ?? "")) res.status(404).json({ error: { code: 404, message: "No such account" } });
      else res.json(control.stats(req.params.username!));
    });
    router.use("/lightblue", r);
  }

  return { name: "lightblue-portal", routes, controlRoutes, control };
}
