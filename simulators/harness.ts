// Provider simulator harness: runs a fake external-provider API on localhost
// with switchable fault injection, so connectors, benches and the sandbox can
// exercise retries, timeouts and rate-limit handling without the real provider.
import express from "express";
import type { NextFunction, Request, Response, Router } from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

export interface FaultSettings {
  latencyMs: number; // added delay before every response (default 0)
  errorRate: number; // 0..1 fraction of requests answered 5xx (default 0)
  errorStatus: number; // status used for injected errors (default 503)
  rateLimitRate: number; // 0..1 fraction answered 429 with Retry-After (default 0)
  retryAfterSeconds: number; // value of Retry-After on injected 429 (default 1)
  hangRate: number; // 0..1 fraction of requests that never answer (socket kept open until the simulator closes) (default 0)
}

export interface SimulatorDefinition {
  name: string; // e.g. "google-calendar"
  routes: (router: express.Router, ctx: SimulatorContext) => void; // provider-specific routes
  // Extra JSON control routes, mounted on the /__sim control router (so never faulted or counted).
  controlRoutes?: (router: express.Router, ctx: SimulatorContext) => void;
}

export interface SimulatorContext {
  name: string;
  baseUrl(): string;
  random(): number;
}

export interface RunningSimulator {
  name: string;
  url: string;
  port: number;
  faults(): FaultSettings;
  setFaults(patch: Partial<FaultSettings>): FaultSettings;
  resetFaults(): void;
  stats(): {
    requests: number;
    injectedErrors: number;
    injectedRateLimits: number;
    hung: number;
  };
  close(): Promise<void>; // closes server AND any hanging sockets promptly
}

const DEFAULT_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  hangRate: 0,
});

const rate = z.number().min(0).max(1);

// Strict so a typo such as "errorrate" is rejected instead of silently ignored.
const faultPatchSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  errorRate: rate.optional(),
  errorStatus: z.number().int().min(500).max(599).optional(),
  rateLimitRate: rate.optional(),
  retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
  hangRate: rate.optional(),
});

type ParseResult = { ok: true; patch: Partial<FaultSettings> } | { ok: false; message: string };

function parseFaultPatch(input: unknown): ParseResult {
  const result = faultPatchSchema.safeParse(input);
  if (result.success) return { ok: true, patch: result.data };
  // One line per problem, e.g. "errorRate: Too big: expected number to be <=1".
  const message = result.error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
  return { ok: false, message: `Invalid fault settings: ${message}` };
}

// mulberry32: tiny, fast, seedable; good enough to pick faulted requests
// reproducibly (not for anything cryptographic).
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function errorBody(code: number, message: string): { error: { code: number; message: string } } {
  return { error: { code, message } };
}

type Fault = "hang" | "rateLimit" | "error" | null;

export async function startSimulator(
  def: SimulatorDefinition,
  opts: {
    port?: number;
    host?: string;
    seed?: number;
    faults?: Partial<FaultSettings>;
  } = {},
): Promise<RunningSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const random = mulberry32(opts.seed ?? 1);

  const initial = parseFaultPatch(opts.faults ?? {});
  if (!initial.ok) throw new Error(`Simulator ${def.name}: ${initial.message}`);
  let settings: FaultSettings = { ...DEFAULT_FAULTS, ...initial.patch };

  const counters = {
    requests: 0,
    injectedErrors: 0,
    injectedRateLimits: 0,
    hung: 0,
  };
  // Latency timers are tracked so close() does not leave the process waiting on them.
  const pendingTimers = new Set<NodeJS.Timeout>();
  let closed = false;
  // eslint-disable-next-line prefer-const -- assigned once listening; baseUrl() reads it earlier and must throw a clear error, not hit the TDZ
  let url: string | undefined;

  const ctx: SimulatorContext = {
    name: def.name,
    baseUrl() {
      if (!url) throw new Error(`Simulator ${def.name} is not listening yet`);
      return url;
    },
    random,
  };

  const app = express();
  app.disable("x-powered-by");
  // ETag/304 handling would make simulated API responses depend on client caching.
  app.set("etag", false);

  // Control routes come first and are never faulted or counted, so the console
  // and benches can always reach them even while every provider call fails.
  const control = express.Router();
  control.use(express.json());
  control.get("/faults", (_req, res) => {
    res.json(settings);
  });
  control.put("/faults", (req, res) => {
    const parsed = parseFaultPatch(req.body ?? {});
    if (!parsed.ok) {
      res.status(400).json(errorBody(400, parsed.message));
      return;
    }
    settings = { ...settings, ...parsed.patch };
    res.json(settings);
  });
  control.delete("/faults", (_req, res) => {
    settings = { ...DEFAULT_FAULTS };
    res.json(settings);
  });
  control.get("/stats", (_req, res) => {
    res.json(counters);
  });
  control.get("/health", (_req, res) => {
    res.json({ ok: true, name: def.name });
  });
  def.controlRoutes?.(control, ctx);
  control.use((req, res) => {
    res.status(404).json(errorBody(404, `No route ${req.method} ${req.originalUrl}`));
  });
  app.use("/__sim", control);

  app.use((req: Request, res: Response, next: NextFunction) => {
    counters.requests++;
    // Decide synchronously on arrival, with a fixed three draws per request, so
    // the fault sequence depends only on seed and request order — not on timing
    // or on which fault kinds happen to be enabled. Precedence: hang > 429 > 5xx.
    const current = settings;
    const hangDraw = random();
    const rateLimitDraw = random();
    const errorDraw = random();
    let fault: Fault = null;
    if (hangDraw < current.hangRate) fault = "hang";
    else if (rateLimitDraw < current.rateLimitRate) fault = "rateLimit";
    else if (errorDraw < current.errorRate) fault = "error";

    if (fault === "hang") {
      // Never respond; close() destroys the socket.
      counters.hung++;
      return;
    }

    const respond = (): void => {
      if (closed) return;
      const message = `Injected fault by simulator ${def.name}`;
      if (fault === "rateLimit") {
        counters.injectedRateLimits++;
        res.set("Retry-After", String(current.retryAfterSeconds));
        res.status(429).json(errorBody(429, message));
      } else if (fault === "error") {
        counters.injectedErrors++;
        res.status(current.errorStatus).json(errorBody(current.errorStatus, message));
      } else {
        next();
      }
    };

    if (current.latencyMs > 0) {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        respond();
      }, current.latencyMs);
      pendingTimers.add(timer);
    } else {
      respond();
    }
  });

  // No global body parser: provider routes choose their own (some need the raw
  // body, e.g. to verify webhook signatures).
  const router: Router = express.Router();
  def.routes(router, ctx);
  app.use(router);

  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody(404, `No route ${req.method} ${req.originalUrl}`));
  });

  // Four-argument signature is how express recognises an error handler.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    // Honour http-errors style statuses (e.g. 400 from a body parser), else 500.
    const raw = typeof err === "object" && err !== null && "status" in err && typeof err.status === "number" ? err.status : 500;
    const status = raw >= 400 && raw <= 599 ? raw : 500;
    const message = err instanceof Error ? err.message : String(err);
    res.status(status).json(errorBody(status, message));
  });

  const server: Server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host);
    s.once("listening", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
  // A hung request must stay open until close(), not be cut off by Node's
  // default 5-minute request timeout.
  server.requestTimeout = 0;

  const port = (server.address() as AddressInfo).port;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;

  return {
    name: def.name,
    url,
    port,
    faults: () => ({ ...settings }),
    setFaults(patch) {
      const parsed = parseFaultPatch(patch);
      if (!parsed.ok) throw new Error(`Simulator ${def.name}: ${parsed.message}`);
      settings = { ...settings, ...parsed.patch };
      return { ...settings };
    },
    resetFaults() {
      settings = { ...DEFAULT_FAULTS };
    },
    stats: () => ({ ...counters }),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        closed = true;
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // server.close() only waits for in-flight requests; hung and keep-alive
        // sockets would block it indefinitely, so destroy them now.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
