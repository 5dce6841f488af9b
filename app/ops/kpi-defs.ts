// The KPI catalogue (ids, targets, bands, drill-down pages) and the grading
// rule, shared by the server (ticker, alerts) and the dashboard in the browser.
export type KpiState = "green" | "amber" | "red" | "unknown";

export interface KpiDef {
  id: string;
  label: string;
  unit: "ms" | "%" | "count" | "s" | "/min";
  /** lower: green below target; higher: green at or above target; info: no target (known = green). */
  better: "lower" | "higher" | "info";
  target: number | null;
  /** The amber band ends here (lower: below it is amber; higher: at or above it is amber). */
  amber: number | null;
  /** lower only: the target itself is green (a "0 open findings" target). */
  inclusive?: boolean;
  /** The target as the brief states it. */
  targetText: string;
  /** Where the failing items are listed. */
  drill: string | null;
  /** Shown under the tile: how the value is measured. */
  how: string;
}

export const KPIS = [
  {
    id: "core_field_sync_latency_ms",
    label: "Core-field sync latency",
    unit: "ms",
    better: "lower",
    target: 50,
    amber: 100,
    targetText: "< 50 ms",
    drill: "/console/couples",
    how: "p95, commit to realtime delivery (else API write time), last minute",
  },
  {
    id: "realtime_stability_pct",
    label: "Realtime connection stability",
    unit: "%",
    better: "higher",
    target: 99.9,
    amber: 99,
    targetText: "99.9%",
    drill: null,
    how: "sessions not lost to transport errors, last 15 min",
  },
  {
    id: "cross_platform_sync_success_pct",
    label: "Cross-platform sync success",
    unit: "%",
    better: "higher",
    target: 100,
    amber: 99,
    targetText: "100%",
    drill: "/console/sync-runs",
    how: "sync runs succeeded of finished, last 15 min",
  },
  {
    id: "tave_api_response_ms",
    label: "Tave API response time",
    unit: "ms",
    better: "lower",
    target: 500,
    amber: 1000,
    targetText: "< 500 ms",
    drill: "/console/connections",
    how: "p95 of Tave calls, last minute",
  },
  {
    id: "google_calendar_sync_success_pct",
    label: "Google Calendar sync success",
    unit: "%",
    better: "higher",
    target: 99,
    amber: 95,
    targetText: "99%",
    drill: "/console/calendars",
    how: "connections whose last sync succeeded, of those synced in 15 min",
  },
  {
    id: "email_delivery_rate_pct",
    label: "Email delivery rate",
    unit: "%",
    better: "higher",
    target: 99.9,
    amber: 99,
    targetText: "99.9%",
    drill: "/console/messages",
    how: "sent or delivered of settled emails, last 15 min",
  },
  {
    id: "webhook_processing_ms",
    label: "Webhook processing time",
    unit: "ms",
    better: "lower",
    target: 100,
    amber: 250,
    targetText: "< 100 ms",
    drill: "/console/webhooks",
    how: "p95 of inbound processing attempts, last minute",
  },
  {
    id: "webhook_retry_success_pct",
    label: "Webhook retry success",
    unit: "%",
    better: "higher",
    target: 95,
    amber: 90,
    targetText: "95%",
    drill: "/console/webhooks",
    how: "retried outbound deliveries that got through, last 15 min",
  },
  {
    id: "signature_validation_pct",
    label: "Signature validation",
    unit: "%",
    better: "higher",
    target: 100,
    amber: 99.9,
    targetText: "100%",
    drill: "/console/webhooks",
    how: "inbound deliveries verified before storing, with forgeries refused (401) as validations that worked; last 15 min",
  },
  {
    id: "integration_error_rate_pct",
    label: "Integration error rate",
    unit: "%",
    better: "lower",
    target: 0.1,
    amber: 1,
    targetText: "< 0.1%",
    drill: "/console/sync-runs",
    how: "failed provider calls and jobs of all, last 15 min",
  },
  {
    id: "failover_response_ms",
    label: "Failover response time",
    unit: "ms",
    better: "lower",
    target: 5000,
    amber: 10000,
    targetText: "< 5 s",
    drill: "/console/messages",
    how: "p95, a provider's failure to the next provider's attempt, last 15 min",
  },
  {
    id: "data_inconsistency_count",
    label: "Data inconsistencies",
    unit: "count",
    better: "lower",
    target: 0,
    amber: 0,
    inclusive: true,
    targetText: "0%",
    drill: "/console/consistency",
    how: "open findings of the consistency checker",
  },
  {
    id: "queue_oldest_job_s",
    label: "Oldest waiting job",
    unit: "s",
    better: "lower",
    target: 60,
    amber: 300,
    targetText: "< 60 s",
    drill: "/console",
    how: "graphile-worker jobs due and not yet taken",
  },
  {
    id: "connections_needing_reconnect",
    label: "Connections needing reconnect",
    unit: "count",
    better: "lower",
    target: 0,
    amber: 5,
    inclusive: true,
    targetText: "0",
    drill: "/console/connections",
    how: "vendor connections whose token was refused",
  },
  {
    id: "connected_sockets",
    label: "Connected sockets",
    unit: "count",
    better: "info",
    target: null,
    amber: null,
    targetText: "",
    drill: null,
    how: "across live web processes",
  },
  {
    id: "core_field_changes_per_min",
    label: "Core-field changes",
    unit: "/min",
    better: "info",
    target: null,
    amber: null,
    targetText: "",
    drill: "/console/couples",
    how: "events in the last minute",
  },
] as const satisfies readonly KpiDef[];

export type KpiId = (typeof KPIS)[number]["id"];
export const KPI_BY_ID: ReadonlyMap<string, KpiDef> = new Map(KPIS.map((k) => [k.id, k]));

/** Green / amber / red from a value; unknown without one. */
export function gradeKpi(def: KpiDef, value: number | null): KpiState {
  if (value === null || !Number.isFinite(value)) return "unknown";
  if (def.better === "info" || def.target === null) return "green";
  const amber = def.amber ?? def.target;
  if (def.better === "lower") {
    if (def.inclusive ? value <= def.target : value < def.target) return "green";
    return (def.inclusive ? value <= amber : value < amber) ? "amber" : "red";
  }
  if (value >= def.target) return "green";
  return value >= amber ? "amber" : "red";
}

/** The KPIs drawn as time series (shared by the server's loader and the browser's live charts). */
export const CHARTED_KPIS = [
  "core_field_sync_latency_ms",
  "core_field_changes_per_min",
  "webhook_processing_ms",
  "connected_sockets",
  "queue_oldest_job_s",
] as const;
