// Tave (VSCO Workspace) API v2 simulator: API-key auth (`X-Api-Key`), the
// studio's clients paged with `page` / `per_page` (HAL-style `links` plus
// `page`, `perPage`, `total`, `pageCount`, `items`), one client by id, and a
// per-account rate limit (100 requests per minute, as Tave documents; raised
// for benches) answered with 429 and Retry-After. Accounts and their clients
// are seeded and changed in-process (tests) or over /__sim/tave (sandbox, benches).
import express from "express";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { generateClients, type GenerateOptions, type TaveRecord } from "./generator.js";

export const TAVE_MAX_PER_PAGE = 100;
export const TAVE_DEFAULT_PER_PAGE = 25;

export interface TaveRateLimit {
  requests: number;
  windowSeconds: number;
}

export interface TaveAccountInput extends Partial<GenerateOptions> {
  apiKey: string;
  name?: string;
  /** Records to start with instead of (or besides) generated ones. */
  clients?: TaveRecord[];
  rateLimit?: TaveRateLimit;
}

export interface TaveAccountStats {
  requests: number;
  rateLimited: number;
}

export interface TaveControl {
  addAccount(input: TaveAccountInput): { id: string; clients: number };
  /** The account's clients in API order (by id). */
  clients(apiKey: string): TaveRecord[];
  /** Change one client (the callback edits a copy); bumps `modified`. Returns the new record. */
  updateClient(apiKey: string, id: string, change: (record: TaveRecord) => void): TaveRecord;
  addClients(apiKey: string, records: TaveRecord[]): void;
  setRateLimit(apiKey: string, limit: TaveRateLimit): void;
  stats(apiKey: string): TaveAccountStats;
  /** Forget every account. */
  reset(): void;
}

export interface TaveSimulatorDefinition extends SimulatorDefinition {
  control: TaveControl;
}

export interface TaveSimulatorOptions {
  /** Accounts created at start (the sandbox's demo studio). */
  accounts?: TaveAccountInput[];
  /** Default per-account limit (Tave: 100 requests per 60 s). */
  rateLimit?: TaveRateLimit;
}

interface Account {
  id: string;
  name: string;
  apiKey: string;
  clients: Map<string, TaveRecord>;
  sorted: TaveRecord[] | null;
  limit: TaveRateLimit;
  /** Request times in the current window (sliding window). */
  hits: number[];
  stats: TaveAccountStats;
}

const errorJson = (res: Response, status: number, message: string, headers: Record<string, string> = {}) => {
  res
    .set(headers)
    .status(status)
    .json({ error: { code: status, message } });
};

const positiveInt = (fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a positive whole number")
    .transform(Number)
    .pipe(z.number().int().min(1))
    .optional()
    .transform((v) => v ?? fallback);

const listQuery = z.object({ page: positiveInt(1), per_page: positiveInt(TAVE_DEFAULT_PER_PAGE) });

const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().min(0.001).max(3600),
});

const accountSchema = z.strictObject({
  apiKey: z.string().min(8),
  name: z.string().optional(),
  count: z.number().int().min(0).max(1_000_000).default(0),
  seed: z.number().int().optional(),
  malformedEmail: z.array(z.number().int().min(0)).optional(),
  malformedDate: z.array(z.number().int().min(0)).optional(),
  rateLimit: rateLimitSchema.optional(),
});

export function createTaveSimulator(opts: TaveSimulatorOptions = {}): TaveSimulatorDefinition {
  const defaultLimit = opts.rateLimit ?? { requests: 100, windowSeconds: 60 };
  const accounts = new Map<string, Account>();
  let accountCounter = 0;

  const account = (apiKey: string): Account => {
    const a = accounts.get(apiKey);
    if (!a) throw new Error(`tave simulator: no account with API key ${apiKey.slice(0, 4)}…`);
    return a;
  };
  const sortedClients = (a: Account): TaveRecord[] =>
    (a.sorted ??= [...a.clients.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)));

  const control: TaveControl = {
    addAccount(input) {
      rateLimitSchema.optional().parse(input.rateLimit);
      accountCounter++;
      const a: Account = {
        id: `01acct${String(accountCounter).padStart(20, "0")}`,
        name: input.name ?? `Studio ${accountCounter}`,
        apiKey: input.apiKey,
        clients: new Map(),
        sorted: null,
        limit: input.rateLimit ?? defaultLimit,
        hits: [],
        stats: { requests: 0, rateLimited: 0 },
      };
      const generated = input.count ? generateClients({ ...input, count: input.count }) : [];
      for (const r of [...generated, ...(input.clients ?? [])]) a.clients.set(r.id, r);
      accounts.set(input.apiKey, a);
      return { id: a.id, clients: a.clients.size };
    },
    clients: (apiKey) => sortedClients(account(apiKey)).map((r) => structuredClone(r)),
    updateClient(apiKey, id, change) {
      const a = account(apiKey);
      const current = a.clients.get(id);
      if (!current) throw new Error(`tave simulator: no client ${id}`);
      const next = structuredClone(current);
      change(next);
      next.modified = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      a.clients.set(id, next);
      a.sorted = null;
      return structuredClone(next);
    },
    addClients(apiKey, records) {
      const a = account(apiKey);
      for (const r of records) a.clients.set(r.id, structuredClone(r));
      a.sorted = null;
    },
    setRateLimit(apiKey, limit) {
      const a = account(apiKey);
      a.limit = rateLimitSchema.parse(limit);
      a.hits = [];
    },
    stats: (apiKey) => ({ ...account(apiKey).stats }),
    reset() {
      accounts.clear();
    },
  };
  for (const a of opts.accounts ?? []) control.addAccount(a);

  /** Authenticate and count against the account's window; answers 401/429 itself and returns null then. */
  function authorize(req: Request, res: Response): Account | null {
    const key = req.get("x-api-key");
    const a = key ? accounts.get(key) : undefined;
    if (!a) {
      errorJson(res, 401, key ? "Invalid API key." : "Missing X-Api-Key header.");
      return null;
    }
    a.stats.requests++;
    const now = Date.now();
    const windowMs = a.limit.windowSeconds * 1000;
    while (a.hits.length && a.hits[0]! <= now - windowMs) a.hits.shift();
    if (a.hits.length >= a.limit.requests) {
      a.stats.rateLimited++;
      const retryAfter = Math.max(1, Math.ceil((a.hits[0]! + windowMs - now) / 1000));
      errorJson(res, 429, `Rate limit of ${a.limit.requests} requests per ${a.limit.windowSeconds} s exceeded.`, {
        "Retry-After": String(retryAfter),
      });
      return null;
    }
    a.hits.push(now);
    return a;
  }

  function routes(router: Router, ctx: SimulatorContext): void {
    router.get("/api/v2/clients", (req, res) => {
      const a = authorize(req, res);
      if (!a) return;
      const q = listQuery.safeParse(req.query);
      if (!q.success) {
        errorJson(res, 400, q.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        return;
      }
      const perPage = Math.min(q.data.per_page, TAVE_MAX_PER_PAGE);
      const all = sortedClients(a);
      const pageCount = Math.max(1, Math.ceil(all.length / perPage));
      const page = q.data.page;
      const href = (p: number) => ({ href: `${ctx.baseUrl()}/api/v2/clients?page=${p}&per_page=${perPage}` });
      res.json({
        links: {
          self: href(page),
          first: href(1),
          last: href(pageCount),
          prev: page > 1 ? href(Math.min(page - 1, pageCount)) : null,
          next: page < pageCount ? href(page + 1) : null,
        },
        page,
        perPage,
        total: all.length,
        pageCount,
        items: all.slice((page - 1) * perPage, page * perPage),
      });
    });

    router.get("/api/v2/clients/:id", (req, res) => {
      const a = authorize(req, res);
      if (!a) return;
      const r = a.clients.get(req.params.id ?? "");
      if (!r) errorJson(res, 404, `No client ${req.params.id}.`);
      else res.json(r);
    });

    /** Who the key belongs to: what a connection test shows as "Connected as". */
    router.get("/api/v2/account", (req, res) => {
      const a = authorize(req, res);
      if (a) res.json({ id: a.id, name: a.name });
    });
  }

  function controlRoutes(router: Router): void {
    const tave = express.Router();
    tave.post("/accounts", (req, res) => {
      const parsed = accountSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        errorJson(res, 400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        return;
      }
      res.status(201).json(control.addAccount(parsed.data));
    });
    tave.put("/accounts/:apiKey/rate-limit", (req, res) => {
      const parsed = rateLimitSchema.safeParse(req.body ?? {});
      if (!parsed.success || !accounts.has(req.params.apiKey ?? "")) {
        errorJson(res, 400, parsed.success ? "No such account" : parsed.error.message);
        return;
      }
      control.setRateLimit(req.params.apiKey!, parsed.data);
      res.json(parsed.data);
    });
    tave.get("/accounts/:apiKey/stats", (req, res) => {
      if (!accounts.has(req.params.apiKey ?? "")) errorJson(res, 404, "No such account");
      else res.json(control.stats(req.params.apiKey!));
    });
    router.use("/tave", tave);
  }

  return { name: "tave", routes, controlRoutes, control };
}
