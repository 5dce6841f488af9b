// What the ops dashboard shows on first load; afterwards `ops:tick` over
// Socket.IO keeps it current every second.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { computeKpis, KPIS, type KpiSnapshot, type KpiValue } from "./kpis.server";
import { liveAlerts, recentAlerts, type AlertView } from "./alerts.server";
import { SnapshotReader } from "./snapshots.server";

import { CHARTED_KPIS } from "./kpi-defs";
export { CHARTED_KPIS };

export interface OpsDashboard {
  snapshot: KpiSnapshot;
  /** KPI id -> [epoch seconds, value | null][] over the last 10 minutes. */
  series: Record<string, [number, number | null][]>;
  alerts: AlertView[];
  recentAlerts: AlertView[];
  reconnect: { id: string; connectorId: string; supplier: string; accountLabel: string | null; lastError: string | null }[];
  /** True when the KPIs come from the ticker (kpi_samples); false when computed for this page only. */
  ticking: boolean;
}

export async function opsDashboard(db: DbOrTx): Promise<OpsDashboard> {
  const latest = await db.execute<{ kpi: string; value: number | null; state: KpiValue["state"]; at: Date | string }>(sql`
    select distinct on (kpi) kpi, value, state, at from kpi_samples
    where at > now() - interval '10 seconds' order by kpi, at desc`);
  let snapshot: KpiSnapshot;
  const ticking = latest.rows.length > 0;
  if (ticking) {
    const byId = new Map(latest.rows.map((r) => [r.kpi, r]));
    const fresh = await computeKpis(db, new SnapshotReader(db));
    snapshot = {
      ...fresh,
      kpis: KPIS.map((k) => {
        const r = byId.get(k.id);
        return r
          ? { id: k.id, value: r.value === null ? null : Number(r.value), state: r.state }
          : { id: k.id, value: null, state: "unknown" };
      }),
    };
  } else {
    snapshot = await computeKpis(db, new SnapshotReader(db));
  }

  const rows = await db.execute<{ kpi: string; t: number; value: number | null }>(sql`
    select kpi, extract(epoch from at)::float8 as t, value from kpi_samples
    where at > now() - interval '10 minutes'
      and kpi in (${sql.join(
        CHARTED_KPIS.map((k) => sql`${k}`),
        sql`, `,
      )})
    order by at`);
  const series: Record<string, [number, number | null][]> = Object.fromEntries(CHARTED_KPIS.map((k) => [k, []]));
  for (const r of rows.rows) series[r.kpi]?.push([Number(r.t), r.value === null ? null : Number(r.value)]);

  const reconnect = await db.execute<{
    id: string;
    connector_id: string;
    supplier: string;
    account_label: string | null;
    last_error: string | null;
  }>(sql`
    select c.id, c.connector_id, s.name as supplier, c.account_label, c.last_error
    from connections c join suppliers s on s.id = c.supplier_id
    where c.status = 'needs_reconnect' order by c.updated_at desc limit 20`);

  return {
    snapshot,
    series,
    alerts: await liveAlerts(db),
    recentAlerts: (await recentAlerts(db, 10)).filter((a) => a.status === "resolved"),
    reconnect: reconnect.rows.map((r) => ({
      id: r.id,
      connectorId: r.connector_id,
      supplier: r.supplier,
      accountLabel: r.account_label,
      lastError: r.last_error,
    })),
    ticking,
  };
}
