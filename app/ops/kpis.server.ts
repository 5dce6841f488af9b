// The brief's KPIs, each with its target and a green/amber/red state. A KPI
// with nothing to measure (no webhooks yet, no Tave calls in the window) is
// "unknown" (grey), never green: no data is not good news.
//
// Sources: the database for what features record durably (sync runs, calendar
// sync state, webhook attempts, messages, findings, graphile-worker's queue),
// and metric_snapshots windows for what only metrics see (realtime delivery,
// provider call latency, error counts), so worker processes count too.
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import { histogramQuantile, sumSeries, type MetricWindow, type SnapshotReader } from "./snapshots.server";

import { KPIS, gradeKpi, type KpiId, type KpiState } from "./kpi-defs";

export { KPIS, KPI_BY_ID, gradeKpi, type KpiDef, type KpiId, type KpiState } from "./kpi-defs";

export const kpiValueSchema = z.object({
  id: z.string(),
  value: z.number().nullable(),
  state: z.enum(["green", "amber", "red", "unknown"]),
});
export type KpiValue = z.infer<typeof kpiValueSchema>;

export const queueRowSchema = z.object({
  task: z.string(),
  waiting: z.number(),
  running: z.number(),
  oldestSeconds: z.number().nullable(),
});
export type QueueRow = z.infer<typeof queueRowSchema>;

export const providerRowSchema = z.object({
  provider: z.string(),
  channel: z.string().nullable(),
  circuit: z.string().nullable(),
  state: z.enum(["green", "amber", "red", "unknown"]),
  p95Ms: z.number().nullable(),
  calls: z.number(),
  errors: z.number(),
  lastError: z.string().nullable(),
});
export type ProviderRow = z.infer<typeof providerRowSchema>;

export interface KpiSnapshot {
  at: string;
  kpis: KpiValue[];
  queue: QueueRow[];
  providers: ProviderRow[];
}

export interface KpiOptions {
  now?: Date;
  /** Latency KPIs (p95s). */
  latencyWindowMs?: number;
  /** Ratio KPIs (success rates): low volumes need a longer window. */
  rateWindowMs?: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const ratio = (good: number, bad: number): number | null => (good + bad > 0 ? (100 * good) / (good + bad) : null);
const round = (v: number | null, digits = 3): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

export async function computeKpis(db: DbOrTx, reader: SnapshotReader, opts: KpiOptions = {}): Promise<KpiSnapshot> {
  const now = opts.now ?? new Date();
  const latencyMs = opts.latencyWindowMs ?? 60_000;
  const rateMs = opts.rateWindowMs ?? 15 * 60_000;
  const at = now.toISOString();
  const since = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const [fast, slow] = await Promise.all([reader.window(now, latencyMs), reader.window(now, rateMs)]);

  const row = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>): Promise<T> =>
    ((await db.execute<T>(q)).rows[0] ?? {}) as T;

  const [db1, webhookP95, failover, findings, queue, providers] = await Promise.all([
    row<Record<string, string | number | null>>(sql`select
      (select count(*) from sync_runs where status = 'succeeded' and finished_at > ${since(rateMs)} and finished_at <= ${at}) as runs_ok,
      (select count(*) from sync_runs where status = 'failed' and finished_at > ${since(rateMs)} and finished_at <= ${at}) as runs_bad,
      (select count(*) from calendar_sync_state s join connections c on c.id = s.connection_id
        where c.connector_id = 'google-calendar' and s.last_error is null
          and s.last_push_at > ${since(rateMs)} and s.last_push_at <= ${at}) as gcal_ok,
      (select count(*) from calendar_sync_state s join connections c on c.id = s.connection_id
        where c.connector_id = 'google-calendar' and s.last_error is not null
          and s.last_error_at > ${since(rateMs)} and s.last_error_at <= ${at}) as gcal_bad,
      (select count(*) from messages where channel = 'email' and status in ('sent', 'delivered')
        and updated_at > ${since(rateMs)} and updated_at <= ${at}) as email_ok,
      (select count(*) from messages where channel = 'email' and status in ('bounced', 'failed')
        and updated_at > ${since(rateMs)} and updated_at <= ${at}) as email_bad,
      (select count(*) from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where e.direction = 'out' and d.attempts > 1 and d.status = 'delivered'
          and d.updated_at > ${since(rateMs)} and d.updated_at <= ${at}) as retry_ok,
      (select count(*) from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where e.direction = 'out' and d.attempts > 1 and d.status in ('failed', 'dead')
          and d.updated_at > ${since(rateMs)} and d.updated_at <= ${at}) as retry_bad,
      -- Validations that did their job: deliveries stored after passing, and forgeries refused with 401.
      ((select count(*) from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where e.direction = 'in' and (d.verification->>'ok')::boolean is true
          and d.created_at > ${since(rateMs)} and d.created_at <= ${at})
       + (select count(*) from webhook_refusals r where r.status = 401
          and r.at > ${since(rateMs)} and r.at <= ${at})) as sig_ok,
      -- An inbound delivery stored without a passed verification must never happen.
      (select count(*) from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where e.direction = 'in' and (d.verification->>'ok')::boolean is not true
          and d.created_at > ${since(rateMs)} and d.created_at <= ${at}) as sig_bad,
      (select count(*) from connections where status = 'needs_reconnect') as reconnect,
      (select count(*) from events where occurred_at > ${since(60_000)} and occurred_at <= ${at}) as changes`),
    row<{ p95: number | null }>(sql`
      select percentile_cont(0.95) within group (order by a.duration_ms) as p95
      from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join webhook_endpoints e on e.id = d.endpoint_id
      where e.direction = 'in' and a.duration_ms is not null and a.started_at > ${since(latencyMs)} and a.started_at <= ${at}`),
    row<{ p95: number | null }>(sql`
      select percentile_cont(0.95) within group (order by extract(epoch from b.started_at - a.finished_at) * 1000) as p95
      from message_attempts a join message_attempts b on b.message_id = a.message_id and b.attempt_no = a.attempt_no + 1
      where a.status in ('failed', 'ambiguous', 'rate_limited') and b.provider <> a.provider and a.finished_at is not null
        and b.started_at > ${since(rateMs)} and b.started_at <= ${at}`),
    inconsistencies(db),
    queueDepth(db, now),
    providerHealth(db, fast),
  ]);
  const n = (k: string) => Number(db1[k] ?? 0);

  const realtimeP95 = histogramQuantile(fast.delta, "hub_realtime_delivery_seconds", 0.95);
  // Fallback when no socket received anything: accepted API writes only (a refused write synced nothing).
  const apiWriteP95 = histogramQuantile(fast.delta, "hub_http_request_duration_seconds", 0.95, {
    route: "/api/v1/couples/:coupleId/core-fields",
    method: (m) => m !== "GET" && m !== "HEAD",
    status_class: "2xx",
  });
  const syncLatency = realtimeP95 ?? apiWriteP95;

  const abnormal = sumSeries(slow.delta, "hub_realtime_disconnects_total", { kind: "abnormal" });
  const sessions =
    sumSeries(slow.latest, "hub_realtime_connected_sockets") + sumSeries(slow.delta, "hub_realtime_disconnects_total");
  const webProcesses = fast.processes.filter((p) => p.role !== "worker").length;

  const calls = sumSeries(slow.delta, "hub_provider_call_duration_seconds_count");
  const callErrors = sumSeries(slow.delta, "hub_provider_call_duration_seconds_count", { outcome: (o) => o !== "success" });
  const jobs = sumSeries(slow.delta, "hub_job_duration_seconds_count");
  const jobErrors = sumSeries(slow.delta, "hub_job_duration_seconds_count", { outcome: "error" });
  const tave = histogramQuantile(fast.delta, "hub_provider_call_duration_seconds", 0.95, { provider: "tave" });

  const oldest = queue.reduce<number>((m, q) => Math.max(m, q.oldestSeconds ?? 0), 0);
  const values: Record<KpiId, number | null> = {
    core_field_sync_latency_ms: syncLatency === null ? null : syncLatency * 1000,
    realtime_stability_pct: sessions > 0 ? 100 * (1 - abnormal / sessions) : null,
    cross_platform_sync_success_pct: ratio(n("runs_ok"), n("runs_bad")),
    tave_api_response_ms: tave === null ? null : tave * 1000,
    google_calendar_sync_success_pct: ratio(n("gcal_ok"), n("gcal_bad")),
    email_delivery_rate_pct: ratio(n("email_ok"), n("email_bad")),
    webhook_processing_ms: num(webhookP95.p95),
    webhook_retry_success_pct: ratio(n("retry_ok"), n("retry_bad")),
    signature_validation_pct: ratio(n("sig_ok"), n("sig_bad")),
    integration_error_rate_pct: calls + jobs > 0 ? (100 * (callErrors + jobErrors)) / (calls + jobs) : null,
    failover_response_ms: num(failover.p95),
    data_inconsistency_count: findings,
    queue_oldest_job_s: oldest,
    connections_needing_reconnect: n("reconnect"),
    connected_sockets: webProcesses > 0 ? sumSeries(fast.latest, "hub_realtime_connected_sockets") : null,
    core_field_changes_per_min: n("changes"),
  };
  return {
    at,
    kpis: KPIS.map((def) => {
      const value = round(values[def.id]);
      return { id: def.id, value, state: gradeKpi(def, value) };
    }),
    queue,
    providers,
  };
}

/**
 * Open findings of the consistency checker (app/ops/consistency.server.ts);
 * unknown until one of its runs has finished: no run is no evidence, not zero.
 */
async function inconsistencies(db: DbOrTx): Promise<number | null> {
  const res = await db.execute<{ ran: boolean; open: string }>(sql`select
    exists (select 1 from consistency_runs where finished_at is not null and error is null) as ran,
    (select count(*) from consistency_findings where resolved_at is null) as open`);
  const r = res.rows[0];
  return r?.ran ? Number(r.open) : null;
}

/** Jobs due and waiting, running, and the oldest due job's age, per task (graphile-worker's own tables). */
export async function queueDepth(db: DbOrTx, now = new Date()): Promise<QueueRow[]> {
  const at = now.toISOString();
  const res = await db.execute<{ task: string; waiting: string; running: string; oldest: number | null }>(sql`
    select t.identifier as task,
      count(*) filter (where j.locked_at is null and j.run_at <= ${at}) as waiting,
      count(*) filter (where j.locked_at is not null) as running,
      extract(epoch from ${at}::timestamptz - min(j.run_at) filter (where j.locked_at is null and j.run_at <= ${at}))::float8 as oldest
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where j.attempts < j.max_attempts
    group by t.identifier order by t.identifier`);
  return res.rows
    .map((r) => ({
      task: r.task,
      waiting: Number(r.waiting),
      running: Number(r.running),
      oldestSeconds: r.oldest === null ? null : Math.max(0, Math.round(Number(r.oldest))),
    }))
    .filter((r) => r.waiting + r.running > 0);
}

/** Messaging providers' circuits (provider_health) and every provider's recent calls (metrics). */
async function providerHealth(db: DbOrTx, window: MetricWindow): Promise<ProviderRow[]> {
  const res = await db.execute<{ provider: string; channel: string; circuit_state: string; last_error: string | null }>(
    sql`select provider, channel, circuit_state, last_error from provider_health order by provider`,
  );
  const rows = new Map<string, ProviderRow>();
  for (const r of res.rows) {
    const state: KpiState = r.circuit_state === "closed" ? "green" : r.circuit_state === "half_open" ? "amber" : "red";
    rows.set(r.provider, {
      provider: r.provider,
      channel: r.channel,
      circuit: r.circuit_state,
      state,
      p95Ms: null,
      calls: 0,
      errors: 0,
      lastError: r.last_error,
    });
  }
  const seen = new Set(
    window.delta
      .filter((s) => s.name === "hub_provider_call_duration_seconds_count" && s.value > 0)
      .map((s) => s.labels.provider ?? ""),
  );
  for (const provider of seen) {
    const calls = sumSeries(window.delta, "hub_provider_call_duration_seconds_count", { provider });
    const errors = sumSeries(window.delta, "hub_provider_call_duration_seconds_count", {
      provider,
      outcome: (o) => o !== "success",
    });
    const p95 = histogramQuantile(window.delta, "hub_provider_call_duration_seconds", 0.95, { provider });
    const cur = rows.get(provider);
    const rate = calls > 0 ? errors / calls : 0;
    const callState: KpiState = rate === 0 ? "green" : rate < 0.05 ? "amber" : "red";
    rows.set(provider, {
      provider,
      channel: cur?.channel ?? null,
      circuit: cur?.circuit ?? null,
      // The worse of the circuit and the recent calls.
      state: cur && cur.state !== "green" ? cur.state : callState,
      p95Ms: p95 === null ? null : Math.round(p95 * 1000),
      calls,
      errors,
      lastError: cur?.lastError ?? null,
    });
  }
  return [...rows.values()].sort((a, b) => a.provider.localeCompare(b.provider));
}
