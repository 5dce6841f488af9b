// 17hats API simulator. 17hats documents no REST API (its only programmatic
// surface is the account API key behind its Zapier app), so this is a modelled
// one in that spirit: the account's API key in `X-API-KEY`, contacts listed with
// `page` / `per_page` ({ contacts, meta: { page, per_page, total, total_pages } }),
// GET /api/v1/account for "Connected as", 401 JSON without a valid key, and a
// per-account limit (60 requests per minute) answered with 429 + Retry-After.
import express from "express";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { allowRequest } from "../prng.js";
import { generateContacts, type SeventeenHatsContact, type SeventeenHatsGenerateOptions } from "./generator.js";

export const SEVENTEEN_HATS_MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 25;

export interface SeventeenHatsRateLimit {
  requests: number;
  windowSeconds: number;
}

export interface SeventeenHatsAccountInput extends Partial<SeventeenHatsGenerateOptions> {
  apiKey: string;
  businessName?: string;
  contacts?: SeventeenHatsContact[];
  rateLimit?: SeventeenHatsRateLimit;
}

export interface SeventeenHatsStats {
  requests: number;
  rateLimited: number;
}

export interface SeventeenHatsControl {
  addAccount(input: SeventeenHatsAccountInput): { id: number; contacts: number };
  contacts(apiKey: string): SeventeenHatsContact[];
  updateContact(apiKey: string, id: number, change: (c: SeventeenHatsContact) => void): SeventeenHatsContact;
  setRateLimit(apiKey: string, limit: SeventeenHatsRateLimit): void;
  stats(apiKey: string): SeventeenHatsStats;
  reset(): void;
}

export interface SeventeenHatsSimulatorDefinition extends SimulatorDefinition {
  control: SeventeenHatsControl;
}

export interface SeventeenHatsSimulatorOptions {
  accounts?: SeventeenHatsAccountInput[];
  rateLimit?: SeventeenHatsRateLimit;
}

interface Account {
  id: number;
  businessName: string;
  contacts: Map<number, SeventeenHatsContact>;
  sorted: SeventeenHatsContact[] | null;
  limit: SeventeenHatsRateLimit;
  hits: number[];
  stats: SeventeenHatsStats;
}

const errorJson = (res: Response, status: number, message: string) => {
  res.status(status).json({ status: "error", code: status, message });
};

const positiveInt = z
  .string()
  .regex(/^[1-9]\d*$/, "must be a positive whole number")
  .transform(Number)
  .optional();
const listQuery = z.object({ page: positiveInt, per_page: positiveInt });

const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().min(0.001).max(3600),
});

const accountSchema = z.strictObject({
  apiKey: z.string().min(8),
  businessName: z.string().optional(),
  count: z.number().int().min(0).max(1_000_000).default(0),
  seed: z.number().int().optional(),
  malformedEmail: z.array(z.number().int().min(0)).optional(),
  malformedDate: z.array(z.number().int().min(0)).optional(),
  rateLimit: rateLimitSchema.optional(),
});

export function createSeventeenHatsSimulator(opts: SeventeenHatsSimulatorOptions = {}): SeventeenHatsSimulatorDefinition {
  const defaultLimit = opts.rateLimit ?? { requests: 60, windowSeconds: 60 };
  const accounts = new Map<string, Account>();
  let counter = 0;

  const account = (apiKey: string): Account => {
    const a = accounts.get(apiKey);
    if (!a) throw new Error(`17hats simulator: no account with API key ${apiKey.slice(0, 4)}…`);
    return a;
  };
  const sorted = (a: Account) => (a.sorted ??= [...a.contacts.values()].sort((x, y) => x.id - y.id));

  const control: SeventeenHatsControl = {
    addAccount(input) {
      rateLimitSchema.optional().parse(input.rateLimit);
      counter++;
      const a: Account = {
        id: 90_000 + counter,
        businessName: input.businessName ?? `Business ${counter}`,
        contacts: new Map(),
        sorted: null,
        limit: input.rateLimit ?? defaultLimit,
        hits: [],
        stats: { requests: 0, rateLimited: 0 },
      };
      const generated = input.count ? generateContacts({ ...input, count: input.count }) : [];
      for (const c of [...generated, ...(input.contacts ?? [])]) a.contacts.set(c.id, structuredClone(c));
      accounts.set(input.apiKey, a);
      return { id: a.id, contacts: a.contacts.size };
    },
    contacts: (apiKey) => sorted(account(apiKey)).map((c) => structuredClone(c)),
    updateContact(apiKey, id, change) {
      const a = account(apiKey);
      const current = a.contacts.get(id);
      if (!current) throw new Error(`17hats simulator: no contact ${id}`);
      const next = structuredClone(current);
      change(next);
      next.updated_at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      a.contacts.set(id, next);
      a.sorted = null;
      return structuredClone(next);
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

  function authorize(req: Request, res: Response): Account | null {
    const key = req.get("x-api-key");
    const a = key ? accounts.get(key) : undefined;
    if (!a) {
      errorJson(res, 401, key ? "Invalid API key." : "Missing X-API-KEY header.");
      return null;
    }
    a.stats.requests++;
    const allowed = allowRequest(a.hits, a.limit);
    if (!allowed.ok) {
      a.stats.rateLimited++;
      res.set("Retry-After", String(allowed.retryAfter));
      errorJson(res, 429, `Rate limit of ${a.limit.requests} requests per ${a.limit.windowSeconds} s exceeded.`);
      return null;
    }
    return a;
  }

  function routes(router: Router, _ctx: SimulatorContext): void {
    router.get("/api/v1/contacts", (req, res) => {
      const a = authorize(req, res);
      if (!a) return;
      const q = listQuery.safeParse(req.query);
      if (!q.success) {
        errorJson(res, 400, q.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        return;
      }
      const perPage = Math.min(q.data.per_page ?? DEFAULT_PER_PAGE, SEVENTEEN_HATS_MAX_PER_PAGE);
      const page = q.data.page ?? 1;
      const all = sorted(a);
      res.json({
        contacts: all.slice((page - 1) * perPage, page * perPage),
        meta: { page, per_page: perPage, total: all.length, total_pages: Math.max(1, Math.ceil(all.length / perPage)) },
      });
    });
    router.get("/api/v1/account", (req, res) => {
      const a = authorize(req, res);
      if (a) res.json({ id: a.id, business_name: a.businessName });
    });
  }

  function controlRoutes(router: Router): void {
    const r = express.Router();
    r.post("/accounts", (req, res) => {
      const parsed = accountSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        errorJson(res, 400, z.prettifyError(parsed.error));
        return;
      }
      res.status(201).json(control.addAccount(parsed.data));
    });
    r.get("/accounts/:apiKey/stats", (req, res) => {
      if (!accounts.has(req.params.apiKey ?? "")) errorJson(res, 404, "No such account");
      else res.json(control.stats(req.params.apiKey!));
    });
    router.use("/seventeen-hats", r);
  }

  return { name: "seventeen-hats", routes, controlRoutes, control };
}
