// One prom-client registry per process: Node's default metrics plus the hub's
// own (HTTP, jobs, provider calls, webhooks, messages, realtime). Labels stay
// low-cardinality: route patterns and Remix route ids, never raw URLs or ids.
//
// Worker processes serve no HTTP, so every process writes its hub_* metrics to
// metric_snapshots every few seconds (snapshots.server.ts); GET /metrics on a
// web process answers with its own registry aggregated with the latest
// snapshot of every other live process, so one scrape sees the whole hub.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ServerBuild } from "@remix-run/node";
import type { Task, TaskList } from "graphile-worker";
import type { HubContext } from "../runtime/context.server";
import { authenticateApiToken } from "../auth/api-tokens.server";
import { safeEqual } from "../crypto/secrets.server";
import { providerStatus } from "../calendar/provider";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Only the hub's own metrics go to metric_snapshots (default metrics are per process and large). */
export const HUB_METRIC_PREFIX = "hub_";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpDuration = new Histogram({
  name: "hub_http_request_duration_seconds",
  help: "HTTP request duration by method, route pattern and status class",
  labelNames: ["method", "route", "status_class"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: "hub_job_duration_seconds",
  help: "graphile-worker task duration by task and outcome (success | error)",
  labelNames: ["task", "outcome"] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const providerCallDuration = new Histogram({
  name: "hub_provider_call_duration_seconds",
  help: "Calls to external providers by provider and outcome (success | client_error | rate_limited | server_error | error)",
  labelNames: ["provider", "outcome"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const webhookDuration = new Histogram({
  name: "hub_webhook_duration_seconds",
  help: "Webhook processing (inbound) and delivery attempts (outbound) by direction and outcome",
  labelNames: ["direction", "outcome"] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const webhooksTotal = new Counter({
  name: "hub_webhooks_total",
  help: "Webhooks by direction and outcome (processed, refused, delivered, failed, dead, …)",
  labelNames: ["direction", "outcome"] as const,
  registers: [registry],
});

export const messagesTotal = new Counter({
  name: "hub_messages_total",
  help: "Messages by channel and outcome (sent, delivered, bounced, failed, suppressed, failover, …)",
  labelNames: ["channel", "outcome"] as const,
  registers: [registry],
});

export const realtimeConnected = new Gauge({
  name: "hub_realtime_connected_sockets",
  help: "Socket.IO sockets connected to this process",
  registers: [registry],
});

export const realtimeConnections = new Counter({
  name: "hub_realtime_connections_total",
  help: "Socket.IO connections accepted",
  registers: [registry],
});

export const realtimeDisconnects = new Counter({
  name: "hub_realtime_disconnects_total",
  help: "Socket.IO disconnections: normal (client or server chose to) or abnormal (transport lost, ping timeout)",
  labelNames: ["kind"] as const,
  registers: [registry],
});

export const realtimeDeliveryLatency = new Histogram({
  name: "hub_realtime_delivery_seconds",
  help: "Core-field change committed (event occurred_at) to its emission on a socket",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

// ------------------------------------------------------------ helpers for modules

export type ProviderOutcome = "success" | "client_error" | "rate_limited" | "server_error" | "error";

export function providerOutcome(err: unknown): ProviderOutcome {
  const status = providerStatus(err);
  if (status === 429) return "rate_limited";
  if (status !== undefined && status >= 500) return "server_error";
  if (status !== undefined && status >= 400) return "client_error";
  return "error";
}

/** Time one call to an external provider (duration + outcome by provider); rethrows what the call threw. */
export async function observeProviderCall<T>(provider: string, fn: () => Promise<T>): Promise<T> {
  const end = providerCallDuration.startTimer({ provider });
  try {
    const result = await fn();
    end({ outcome: "success" });
    return result;
  } catch (err) {
    end({ outcome: providerOutcome(err) });
    throw err;
  }
}

/** A webhook processed (inbound) or an outbound delivery attempt, with how long it took. */
export function observeWebhook(direction: "in" | "out", outcome: string, durationMs?: number): void {
  webhooksTotal.inc({ direction, outcome });
  if (durationMs !== undefined) webhookDuration.observe({ direction, outcome }, durationMs / 1000);
}

/** A message reached an outcome (sent, delivered, bounced, failed, suppressed, failover…). */
export function countMessage(channel: string, outcome: string): void {
  messagesTotal.inc({ channel, outcome });
}

/** graphile-worker tasks, decorated once: every task's duration and outcome without touching each task. */
export function instrumentTaskList(tasks: TaskList): TaskList {
  const wrapped: TaskList = {};
  for (const [task, fn] of Object.entries(tasks)) {
    if (!fn) continue;
    const run: Task = async (payload, helpers) => {
      const end = jobDuration.startTimer({ task });
      try {
        const result = await fn(payload, helpers);
        end({ outcome: "success" });
        return result;
      } catch (err) {
        end({ outcome: "error" });
        throw err;
      }
    };
    wrapped[task] = run;
  }
  return wrapped;
}

// ------------------------------------------------------------ HTTP

interface RouteEntry {
  id: string;
  segments: string[];
  depth: number;
  index: boolean;
}

/** Remix route ids by URL path, from the server build's route tree (for the `route` label). */
export function remixRouteMatcher(routes: ServerBuild["routes"]): (pathname: string) => string {
  const entries: RouteEntry[] = [];
  for (const route of Object.values(routes)) {
    const segments: string[] = [];
    let depth = 0;
    for (let r: (typeof routes)[string] | undefined = route; r; r = r.parentId ? routes[r.parentId] : undefined) {
      if (r.path) segments.unshift(...r.path.split("/").filter(Boolean));
      depth++;
    }
    entries.push({ id: route.id, segments, depth, index: Boolean(route.index) });
  }
  return (pathname) => {
    // Single Fetch data requests: /console.data, /_root.data (the root).
    const path = pathname.endsWith(".data") ? pathname.slice(0, -5).replace(/^\/_root$/, "/") : pathname;
    const parts = path.split("/").filter(Boolean);
    let best: { id: string; score: number[] } | null = null;
    for (const e of entries) {
      const score = matchScore(e, parts);
      if (score && (!best || compareScores(score, best.score) > 0)) best = { id: e.id, score };
    }
    return best?.id ?? "unmatched";
  };
}

function matchScore(e: RouteEntry, parts: string[]): number[] | null {
  let statics = 0;
  for (let i = 0; i < e.segments.length; i++) {
    const seg = e.segments[i]!;
    if (seg === "*") return [0, statics, e.depth, e.index ? 1 : 0];
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.startsWith(":")) continue;
    if (seg.toLowerCase() !== part.toLowerCase()) return null;
    statics++;
  }
  if (parts.length !== e.segments.length) return null;
  return [1, statics, e.index ? 1 : 0, e.depth];
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** Duration of every request by method, route pattern (Express route or Remix route id) and status class. */
export function httpMetrics(remixRouteFor: (pathname: string) => string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = httpDuration.startTimer();
    res.on("finish", () => {
      end({ method: req.method, route: routeLabel(req, remixRouteFor), status_class: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  };
}

function routeLabel(req: Request, remixRouteFor: (pathname: string) => string): string {
  const route: unknown = req.route;
  const routePath = typeof route === "object" && route !== null ? (route as { path?: unknown }).path : undefined;
  if (routePath === "*") return remixRouteFor(req.path);
  if (typeof routePath === "string") return `${req.baseUrl}${routePath}`;
  if (req.path.startsWith("/build/")) return "static:build";
  if (req.path.startsWith("/api/v1")) return "/api/v1 (unmatched)";
  return "static";
}

// ------------------------------------------------------------ exposition

export type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

export async function hubMetricsJson(): Promise<MetricsJson> {
  const all = await registry.getMetricsAsJSON();
  return all.filter((m) => m.name.startsWith(HUB_METRIC_PREFIX));
}

/** This process's registry, with the other live processes' hub_* snapshots summed in. */
export async function aggregatedMetricsText(others: MetricsJson[]): Promise<{ text: string; contentType: string }> {
  const own = await registry.getMetricsAsJSON();
  const merged = others.length === 0 ? registry : AggregatorRegistry.aggregate([own, ...others]);
  return { text: await merged.metrics(), contentType: registry.contentType };
}

/** Bearer METRICS_TOKEN, or an API token with the "ops" scope. */
export async function metricsAuthorized(ctx: HubContext, authorization: string | undefined): Promise<boolean> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match) return false;
  const token = match[1]!;
  if (ctx.config.metricsToken && safeEqual(token, ctx.config.metricsToken)) return true;
  const principal = await authenticateApiToken(ctx.db, token);
  return Boolean(principal?.scopes.includes("ops"));
}
