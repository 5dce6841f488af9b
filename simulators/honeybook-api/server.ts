// HoneyBook API simulator (api.honeybook.com stand-in). HoneyBook publishes no
// API; these are the two calls its web app makes, as the open-source
// honeybook-mcp observed them: the project list GET /api/v2/client/events?page=N
// ({ data, cur_page, total_pages, last_page }: page numbers, a fixed page size)
// and one project's details GET /api/v2/events/{id}/details. Every call needs a
// Bearer access token, checked by `authorize` (in the sandbox: the HoneyBook
// OAuth simulator's checkAccessToken), else 401. 429 + Retry-After comes from the
// harness's fault injection (rateLimitRate).
import express from "express";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { generateProjects, type HoneyBookGenerateOptions, type HoneyBookProject } from "./generator.js";

export const HONEYBOOK_DEFAULT_PAGE_SIZE = 20;

/** What `authorize` answers for a bearer token; an OAuth simulator's AccessTokenCheck fits. */
export type HoneyBookAuthResult = { ok: true; userId: string } | { ok: false; reason?: string };

export interface HoneyBookAccountInput extends Partial<HoneyBookGenerateOptions> {
  /** The HoneyBook user (`_id`) whose projects these are: the OAuth user the token belongs to. */
  userId: string;
  projects?: HoneyBookProject[];
}

export interface HoneyBookStats {
  listRequests: number;
  detailRequests: number;
}

export interface HoneyBookControl {
  addAccount(input: HoneyBookAccountInput): { userId: string; projects: number };
  /** The user's projects in list order (by `_id`). */
  projects(userId: string): HoneyBookProject[];
  updateProject(userId: string, id: string, change: (p: HoneyBookProject) => void): HoneyBookProject;
  stats(userId: string): HoneyBookStats;
  /** Requests answered 401 (any user). */
  unauthorized(): number;
  setPageSize(size: number): void;
  reset(): void;
}

export interface HoneyBookApiSimulatorDefinition extends SimulatorDefinition {
  control: HoneyBookControl;
}

export interface HoneyBookApiSimulatorOptions {
  /** Checks every bearer token. Default: the token itself is the user id (contract tests). */
  authorize?: (accessToken: string) => HoneyBookAuthResult;
  accounts?: HoneyBookAccountInput[];
  pageSize?: number;
}

interface Account {
  projects: Map<string, HoneyBookProject>;
  sorted: HoneyBookProject[] | null;
  stats: HoneyBookStats;
}

const listQuery = z.object({
  page: z
    .string()
    .regex(/^[1-9]\d*$/, "must be a positive whole number")
    .transform(Number)
    .optional(),
});

const accountSchema = z.strictObject({
  userId: z.string().min(1),
  count: z.number().int().min(0).max(100_000).default(0),
  seed: z.number().int().optional(),
  malformedEmail: z.array(z.number().int().min(0)).optional(),
  malformedDate: z.array(z.number().int().min(0)).optional(),
});

/** The list shows a summary; the booked flag is only here (the details omit it). */
const listItem = (p: HoneyBookProject) => ({
  _id: p._id,
  workspace_id: `ws${p._id.slice(2)}`,
  event_name: p.event_name,
  event_date: p.event_date,
  is_booked: p.is_booked,
  created_at: p.created_at,
});

export function createHoneyBookApiSimulator(opts: HoneyBookApiSimulatorOptions = {}): HoneyBookApiSimulatorDefinition {
  const authorizeToken = opts.authorize ?? ((token: string): HoneyBookAuthResult => ({ ok: true, userId: token }));
  let pageSize = opts.pageSize ?? HONEYBOOK_DEFAULT_PAGE_SIZE;
  const accounts = new Map<string, Account>();
  let unauthorized = 0;

  const account = (userId: string): Account => {
    const a = accounts.get(userId);
    if (!a) throw new Error(`honeybook-api simulator: no account for user ${userId}`);
    return a;
  };
  const sorted = (a: Account) =>
    (a.sorted ??= [...a.projects.values()].sort((x, y) => (x._id < y._id ? -1 : x._id > y._id ? 1 : 0)));

  const control: HoneyBookControl = {
    addAccount(input) {
      const a = accounts.get(input.userId) ?? {
        projects: new Map(),
        sorted: null,
        stats: { listRequests: 0, detailRequests: 0 },
      };
      const generated = input.count ? generateProjects({ ...input, count: input.count }) : [];
      for (const p of [...generated, ...(input.projects ?? [])]) a.projects.set(p._id, structuredClone(p));
      a.sorted = null;
      accounts.set(input.userId, a);
      return { userId: input.userId, projects: a.projects.size };
    },
    projects: (userId) => sorted(account(userId)).map((p) => structuredClone(p)),
    updateProject(userId, id, change) {
      const a = account(userId);
      const current = a.projects.get(id);
      if (!current) throw new Error(`honeybook-api simulator: no project ${id}`);
      const next = structuredClone(current);
      change(next);
      a.projects.set(id, next);
      a.sorted = null;
      return structuredClone(next);
    },
    stats: (userId) => ({ ...account(userId).stats }),
    unauthorized: () => unauthorized,
    setPageSize(size) {
      pageSize = z.number().int().min(1).max(1000).parse(size);
    },
    reset() {
      accounts.clear();
      unauthorized = 0;
    },
  };
  for (const a of opts.accounts ?? []) control.addAccount(a);

  function authenticate(req: Request, res: Response): Account | null {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "");
    const check: HoneyBookAuthResult = match ? authorizeToken(match[1]!) : { ok: false, reason: "missing" };
    if (!check.ok) {
      unauthorized++;
      res
        .status(401)
        .set("WWW-Authenticate", match ? 'Bearer error="invalid_token"' : "Bearer")
        .json({
          error: "unauthorized",
          error_description: match ? "The access token is invalid or expired." : "No access token.",
        });
      return null;
    }
    // A user with no projects yet simply has none (a new HoneyBook account).
    let a = accounts.get(check.userId);
    if (!a) {
      control.addAccount({ userId: check.userId });
      a = accounts.get(check.userId)!;
    }
    return a;
  }

  function routes(router: Router, _ctx: SimulatorContext): void {
    router.get("/api/v2/client/events", (req, res) => {
      const a = authenticate(req, res);
      if (!a) return;
      const q = listQuery.safeParse(req.query);
      if (!q.success) {
        res.status(400).json({ error: "bad_request", error_description: `page ${q.error.issues[0]!.message}` });
        return;
      }
      a.stats.listRequests++;
      const all = sorted(a);
      const page = q.data.page ?? 1;
      const totalPages = Math.max(1, Math.ceil(all.length / pageSize));
      res.json({
        data: all.slice((page - 1) * pageSize, page * pageSize).map(listItem),
        cur_page: page,
        total_pages: totalPages,
        last_page: page >= totalPages,
      });
    });

    router.get("/api/v2/events/:id/details", (req, res) => {
      const a = authenticate(req, res);
      if (!a) return;
      a.stats.detailRequests++;
      const p = a.projects.get(req.params.id ?? "");
      if (!p) {
        res.status(404).json({ error: "not_found", error_description: `No event ${req.params.id}.` });
        return;
      }
      const { is_booked: _booked, ...details } = p;
      res.json(details);
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
    r.get("/accounts/:userId/stats", (req, res) => {
      if (!accounts.has(req.params.userId ?? "")) res.status(404).json({ error: { code: 404, message: "No such account" } });
      else res.json(control.stats(req.params.userId!));
    });
    router.use("/honeybook-api", r);
  }

  return { name: "honeybook-api", routes, controlRoutes, control };
}
