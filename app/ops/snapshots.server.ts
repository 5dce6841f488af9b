// metric_snapshots: how worker metrics reach the web processes. Every process
// writes its hub_* metrics every 5 s; a process is live while its latest
// snapshot is younger than 15 s. KPIs over a window read the difference
// between each live process's latest snapshot and the one at the window's
// start (counters and histograms are cumulative), summed over processes.
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { metricSnapshots } from "../../db/schema";
import { hubMetricsJson, type MetricsJson } from "./metrics.server";

export const SNAPSHOT_INTERVAL_MS = 5_000;
export const LIVE_MS = 15_000;
/** Longest KPI window plus a margin; older snapshots are pruned. */
export const KEEP_MS = 20 * 60_000;

const metricsJsonSchema = z.array(
  z.looseObject({
    name: z.string(),
    help: z.string(),
    type: z.string(),
    values: z.array(
      z.looseObject({
        value: z.number(),
        labels: z.record(z.string(), z.union([z.string(), z.number()])),
        metricName: z.string().optional(),
      }),
    ),
  }),
);

function parseMetrics(raw: unknown): MetricsJson {
  const parsed = metricsJsonSchema.safeParse(raw);
  // prom-client's own JSON shape (its `type` is a string at run time, an enum in its typings).
  return parsed.success ? (parsed.data as unknown as MetricsJson) : [];
}

export async function writeSnapshot(ctx: HubContext): Promise<void> {
  await ctx.db.insert(metricSnapshots).values({ processId: ctx.instanceId, role: ctx.role, metrics: await hubMetricsJson() });
}

export async function pruneSnapshots(db: DbOrTx, keepMs = KEEP_MS): Promise<void> {
  await db.execute(sql`delete from metric_snapshots where at < now() - make_interval(secs => ${keepMs / 1000})`);
}

/** Write now, then every 5 s; prune once a minute. Stopping removes this process's rows: it is no longer live. */
export function startSnapshotWriter(ctx: HubContext): { stop(): Promise<void>; flush(): Promise<void> } {
  let writes = 0;
  let running: Promise<void> = Promise.resolve();
  const once = () => {
    running = running.then(async () => {
      try {
        await writeSnapshot(ctx);
        if (writes++ % 12 === 0) await pruneSnapshots(ctx.db);
      } catch (err) {
        ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, "metric snapshot not written");
      }
    });
    return running;
  };
  void once();
  const timer = setInterval(() => void once(), SNAPSHOT_INTERVAL_MS);
  timer.unref();
  return {
    flush: once,
    async stop() {
      clearInterval(timer);
      await running;
      await ctx.db.execute(sql`delete from metric_snapshots where process_id = ${ctx.instanceId}`).catch(() => undefined);
    },
  };
}

/** The latest snapshot of every live process (optionally not this one). */
export async function liveSnapshots(
  db: DbOrTx,
  opts: { excludeProcessId?: string } = {},
): Promise<{ processId: string; role: string; at: Date; metrics: MetricsJson }[]> {
  const res = await db.execute<{ process_id: string; role: string; at: Date | string; metrics: unknown }>(sql`
    select distinct on (process_id) process_id, role, at, metrics from metric_snapshots
    where at > now() - make_interval(secs => ${LIVE_MS / 1000})
      and process_id <> ${opts.excludeProcessId ?? ""}
    order by process_id, at desc`);
  return res.rows.map((r) => ({ processId: r.process_id, role: r.role, at: new Date(r.at), metrics: parseMetrics(r.metrics) }));
}

// ------------------------------------------------------------ windows

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function flatten(metrics: MetricsJson): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const m of metrics) {
    for (const v of m.values) {
      const name = (v as { metricName?: string }).metricName ?? m.name;
      const labels: Record<string, string> = {};
      for (const [k, val] of Object.entries(v.labels)) if (val !== undefined) labels[k] = String(val);
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      out.set(key, { name, labels, value: v.value });
    }
  }
  return out;
}

export interface MetricWindow {
  /** Counters and histogram series: what happened within the window, summed over live processes. */
  delta: Series[];
  /** The latest value of every series (gauges), summed over live processes. */
  latest: Series[];
  processes: { processId: string; role: string }[];
}

/** Reads windows of metric_snapshots; parsed snapshots are cached by id (the ticker reads every second). */
export class SnapshotReader {
  private cache = new Map<number, Map<string, Series>>();

  constructor(private readonly db: DbOrTx) {}

  async window(now: Date, windowMs: number): Promise<MetricWindow> {
    const res = await this.db.execute<{ process_id: string; role: string; latest_id: string; base_id: string | null }>(sql`
      with live as (
        select distinct on (process_id) id, process_id, role from metric_snapshots
        where at > ${now.toISOString()}::timestamptz - make_interval(secs => ${LIVE_MS / 1000})
          and at <= ${now.toISOString()}::timestamptz
        order by process_id, at desc
      ), base as (
        select distinct on (s.process_id) s.id, s.process_id from metric_snapshots s join live l using (process_id)
        where s.at <= ${now.toISOString()}::timestamptz - make_interval(secs => ${windowMs / 1000})
        order by s.process_id, s.at desc
      )
      select l.process_id, l.role, l.id as latest_id, b.id as base_id from live l left join base b using (process_id)`);
    const ids = res.rows.flatMap((r) => [Number(r.latest_id), ...(r.base_id ? [Number(r.base_id)] : [])]);
    const missing = ids.filter((id) => !this.cache.has(id));
    if (missing.length) {
      const rows = await this.db.execute<{ id: string; metrics: unknown }>(
        sql`select id, metrics from metric_snapshots where id in (${sql.join(
          missing.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      );
      for (const r of rows.rows) this.cache.set(Number(r.id), flatten(parseMetrics(r.metrics)));
    }
    // Keep only what this window used: the next one mostly reuses it.
    const used = new Set(ids);
    for (const id of this.cache.keys()) if (!used.has(id)) this.cache.delete(id);

    const delta = new Map<string, Series>();
    const latest = new Map<string, Series>();
    for (const r of res.rows) {
      const now = this.cache.get(Number(r.latest_id)) ?? new Map<string, Series>();
      const base = r.base_id ? (this.cache.get(Number(r.base_id)) ?? new Map<string, Series>()) : new Map<string, Series>();
      for (const [key, s] of now) {
        const before = base.get(key)?.value ?? 0;
        // Lower than at the window's start: the process restarted; count from zero.
        const d = s.value >= before ? s.value - before : s.value;
        add(delta, key, s, d);
        add(latest, key, s, s.value);
      }
    }
    return {
      delta: [...delta.values()],
      latest: [...latest.values()],
      processes: res.rows.map((r) => ({ processId: r.process_id, role: r.role })),
    };
  }
}

function add(into: Map<string, Series>, key: string, s: Series, value: number) {
  const cur = into.get(key);
  if (cur) cur.value += value;
  else into.set(key, { name: s.name, labels: s.labels, value });
}

type LabelFilter = Record<string, string | ((v: string) => boolean)>;

function matches(s: Series, filter: LabelFilter): boolean {
  return Object.entries(filter).every(([k, want]) => {
    const v = s.labels[k];
    if (v === undefined) return false;
    return typeof want === "string" ? v === want : want(v);
  });
}

export function sumSeries(series: Series[], name: string, filter: LabelFilter = {}): number {
  return series.filter((s) => s.name === name && matches(s, filter)).reduce((a, s) => a + s.value, 0);
}

/** Prometheus' histogram_quantile over the window's buckets; null when nothing was observed. */
export function histogramQuantile(series: Series[], histogram: string, q: number, filter: LabelFilter = {}): number | null {
  const buckets = new Map<number, number>();
  for (const s of series) {
    if (s.name !== `${histogram}_bucket` || !matches(s, filter)) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
