// The console's front page is the ops dashboard: the brief's KPIs with target
// and state, time series, queue, providers, sockets, reconnect-needed
// connections and alerts. Live: the `ops` Socket.IO room gets `ops:tick` every
// second, so nothing here needs a reload.
import { useEffect, useState } from "react";
import { data, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import uplotStyles from "uplot/dist/uPlot.min.css";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { dashboardSummary } from "~/dashboard/summary.server";
import { queueDiagnosticPings } from "~/diagnostics/ping.server";
import { recordAudit } from "~/audit/audit.server";
import { CsrfField } from "~/components/CsrfField";
import { KpiChart } from "~/components/ops/KpiChart";
import { opsDashboard } from "~/ops/dashboard.server";
import { weddingDayHealth } from "~/wedding-day/health.server";
import { CHARTED_KPIS } from "~/ops/kpi-defs";
import { acknowledgeAlert } from "~/ops/alerts.server";
import { announceAlert, type OpsTick } from "~/ops/ticker.server";
import { KPIS, KPI_BY_ID, type KpiDef } from "~/ops/kpi-defs";
import { DomainError } from "~/errors";
import { connectHub } from "~/components/hub-socket.client";
import opsStyles from "~/styles/ops-dashboard.css";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: uplotStyles },
  { rel: "stylesheet", href: opsStyles },
];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const [summary, ops, weddingDays] = await Promise.all([
    dashboardSummary(context.hub.db),
    opsDashboard(context.hub.db),
    weddingDayHealth(context.hub),
  ]);
  return {
    summary,
    ops,
    weddingDays: weddingDays.map((w) => ({
      coupleId: w.coupleId,
      displayName: w.displayName,
      weddingDate: w.weddingDate,
      timeZone: w.timeZone,
      source: w.state.source,
      health: w.health,
      messagesWaiting: w.messagesWaiting,
      messagesFailed: w.messagesFailed,
      webhooksFailing: w.webhooksFailing,
      connectionsNeedingReconnect: w.connectionsNeedingReconnect,
    })),
  };
}

type Reply = { tone: "ok" | "error"; message: string; queued?: string };

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context, ["admin", "ops"]);
  const form = await readVerifiedForm(request, context);
  const actor = { type: "user" as const, id: user.id, label: user.email };
  if (form.get("intent") === "acknowledge") {
    try {
      const alert = await context.hub.db.transaction((tx) => acknowledgeAlert(tx, String(form.get("alertId") ?? ""), actor));
      await announceAlert(context.hub, alert);
      return data<Reply>({ tone: "ok", message: `Acknowledged: ${alert.message}` });
    } catch (err) {
      if (err instanceof DomainError) return data<Reply>({ tone: "error", message: err.message }, { status: err.status });
      throw err;
    }
  }
  const keys = await context.hub.db.transaction(async (tx) => {
    const queued = await queueDiagnosticPings(tx, 1);
    await recordAudit(tx, actor, { action: "diagnostics.ping", entityType: "job", entityId: queued[0] });
    return queued;
  });
  return data<Reply>({
    tone: "ok",
    message: `Queued ${keys[0]}. Reload to see it below once a worker has run it.`,
    queued: keys[0],
  });
}

const MAX_POINTS = 600;

function formatValue(def: KpiDef, value: number | null): string {
  if (value === null) return "no data";
  const shown = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
  if (def.unit === "%") return `${shown}%`;
  if (def.unit === "count") return String(shown);
  if (def.unit === "/min") return `${shown} /min`;
  return `${shown} ${def.unit}`;
}

type Live = "connecting" | "live" | "offline";

export default function Dashboard() {
  const { summary, ops, weddingDays } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [snapshot, setSnapshot] = useState(ops.snapshot);
  // Alerts come from the loader (first load, after acknowledging) and from every tick, whichever is newer.
  const [alertState, setAlertState] = useState({ from: ops.alerts, list: ops.alerts });
  if (alertState.from !== ops.alerts) setAlertState({ from: ops.alerts, list: ops.alerts });
  const alerts = alertState.from === ops.alerts ? alertState.list : ops.alerts;
  const [series, setSeries] = useState(ops.series);
  const [live, setLive] = useState<Live>("connecting");
  const [lastTick, setLastTick] = useState<string | null>(null);

  useEffect(() => {
    const hub = connectHub({ url: window.location.origin, rooms: [], onEvent: () => undefined });
    hub.socket.on("connect", () => setLive("live"));
    hub.socket.on("disconnect", () => setLive("offline"));
    hub.socket.on("ops:tick", (tick: OpsTick) => {
      setLastTick(tick.at);
      setSnapshot((s) => ({
        at: tick.at,
        kpis: tick.kpis,
        queue: tick.queue ?? s.queue,
        providers: tick.providers ?? s.providers,
      }));
      setAlertState((s) => ({ ...s, list: tick.alerts }));
      const t = Date.parse(tick.at) / 1000;
      setSeries((prev) => {
        const next: typeof prev = { ...prev };
        for (const id of CHARTED_KPIS) {
          const v = tick.kpis.find((k) => k.id === id)?.value ?? null;
          next[id] = [...(prev[id] ?? []), [t, v] as [number, number | null]].slice(-MAX_POINTS);
        }
        return next;
      });
    });
    return () => hub.close();
  }, []);

  const values = new Map(snapshot.kpis.map((k) => [k.id, k]));
  return (
    <>
      <h1>Dashboard</h1>
      <p className="ops-live" data-state={live} role="status" data-last-tick={lastTick ?? ""}>
        {live === "live"
          ? `Live${lastTick ? `: updated ${new Date(lastTick).toLocaleTimeString()}` : ", waiting for the first tick"}`
          : live === "offline"
            ? "Live updates lost; reconnecting…"
            : "Connecting to live updates…"}
        {!ops.ticking && !lastTick ? " (no KPI ticker running: figures are as of this page load)" : null}
      </p>
      {result ? (
        <p className={`alert ${result.tone}`} role={result.tone === "ok" ? "status" : "alert"}>
          {result.message}
        </p>
      ) : null}

      <h2>Alerts</h2>
      {alerts.length === 0 ? (
        <p className="muted" data-alerts="none">
          No open alerts.
        </p>
      ) : (
        <table data-alerts="live">
          <thead>
            <tr>
              <th>Status</th>
              <th>Alert</th>
              <th>Since</th>
              <th>Latest value</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => {
              const def = KPI_BY_ID.get(a.kpi);
              return (
                <tr key={a.id} className="ops-alert-row" data-status={a.status} data-kpi={a.kpi}>
                  <td>{a.status}</td>
                  <td>{def?.drill ? <Link to={def.drill}>{a.message}</Link> : a.message}</td>
                  <td>{new Date(a.openedAt).toLocaleTimeString()}</td>
                  <td>{def ? formatValue(def, a.lastValue) : a.lastValue}</td>
                  <td>
                    {a.status === "open" ? (
                      <Form method="post">
                        <CsrfField />
                        <input type="hidden" name="intent" value="acknowledge" />
                        <input type="hidden" name="alertId" value={a.id} />
                        <button type="submit">Acknowledge</button>
                      </Form>
                    ) : (
                      <span className="muted">acknowledged</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}

      <h2>Integration KPIs</h2>
      <div className="kpi-tiles">
        {KPIS.map((def) => {
          const v = values.get(def.id);
          const state = v?.state ?? "unknown";
          const body = (
            <>
              <div className="kpi-label">{def.label}</div>
              <div className="kpi-value" data-kpi-value={def.id}>
                {formatValue(def, v?.value ?? null)}
              </div>
              <div className="kpi-meta">
                {def.targetText ? `target ${def.targetText} · ` : ""}
                <span className="kpi-state">{state === "unknown" ? "no data" : state}</span>
              </div>
              <div className="kpi-meta">{def.how}</div>
            </>
          );
          return (
            <section key={def.id} className="kpi-tile" data-kpi={def.id} data-state={state} aria-label={def.label}>
              {def.drill ? (
                <Link to={def.drill} title={`Open ${def.drill}`}>
                  {body}
                </Link>
              ) : (
                body
              )}
            </section>
          );
        })}
      </div>

      <h2>Trends (last 10 minutes)</h2>
      <div className="ops-charts">
        {CHARTED_KPIS.map((id) => {
          const def = KPI_BY_ID.get(id)!;
          return <KpiChart key={id} title={def.label} unit={def.unit} target={def.target} points={series[id] ?? []} />;
        })}
      </div>

      <h2>Job queue</h2>
      {snapshot.queue.length === 0 ? (
        <p className="muted">No jobs waiting: the workers are keeping up.</p>
      ) : (
        <table data-queue>
          <thead>
            <tr>
              <th>Task</th>
              <th>Waiting</th>
              <th>Running</th>
              <th>Oldest waiting</th>
            </tr>
          </thead>
          <tbody>
            {snapshot.queue.map((q) => (
              <tr key={q.task}>
                <td>{q.task}</td>
                <td>{q.waiting}</td>
                <td>{q.running}</td>
                <td>{q.oldestSeconds === null ? "–" : `${q.oldestSeconds} s`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Providers</h2>
      {snapshot.providers.length === 0 ? (
        <p className="muted">No provider calls or circuits recorded yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Provider</th>
              <th>Circuit</th>
              <th>Calls (1 min)</th>
              <th>Errors</th>
              <th>p95</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {snapshot.providers.map((p) => (
              <tr key={p.provider} data-state={p.state}>
                <td>{p.provider}</td>
                <td>{p.circuit ?? "–"}</td>
                <td>{p.calls}</td>
                <td>{p.errors}</td>
                <td>{p.p95Ms === null ? "–" : `${p.p95Ms} ms`}</td>
                <td>{p.lastError ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Weddings in wedding-day mode</h2>
      {weddingDays.length === 0 ? (
        <p className="muted">None within 48 hours, and none switched on by hand.</p>
      ) : (
        <table data-wedding-days>
          <thead>
            <tr>
              <th>Couple</th>
              <th>Date</th>
              <th>Health</th>
              <th>Waiting / failed messages</th>
              <th>Webhooks failing</th>
              <th>Reconnects</th>
            </tr>
          </thead>
          <tbody>
            {weddingDays.map((w) => (
              <tr key={w.coupleId}>
                <td>
                  <Link to={`/console/couples/${w.coupleId}`}>{w.displayName}</Link>
                  {w.source !== "auto" ? <span className="muted"> (switched {w.source})</span> : null}
                </td>
                <td>
                  {w.weddingDate ?? "no date"} <span className="muted">{w.timeZone}</span>
                </td>
                <td>
                  <span className={`kpi-state ${w.health}`}>{w.health}</span>
                </td>
                <td>
                  {w.messagesWaiting} / {w.messagesFailed}
                </td>
                <td>{w.webhooksFailing}</td>
                <td>{w.connectionsNeedingReconnect}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <Link to="/console/wedding-day">Wedding day</Link>
      </p>

      <h2>Connections needing reconnect</h2>
      {ops.reconnect.length === 0 ? (
        <p className="muted">None: every vendor connection&apos;s token works.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Supplier</th>
              <th>Provider</th>
              <th>Account</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {ops.reconnect.map((c) => (
              <tr key={c.id}>
                <td>{c.supplier}</td>
                <td>{c.connectorId}</td>
                <td>{c.accountLabel ?? ""}</td>
                <td>{c.lastError ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <Link to="/console/connections">All connections</Link>
      </p>

      <h2>Hub</h2>
      <div className="cards">
        <Figure label="Suppliers" value={summary.suppliers} />
        <Figure label="Couples" value={summary.couples} />
        <Figure label="Connections" value={summary.connections} />
        <Figure label="Core-field changes (24 h)" value={summary.eventsLast24h} />
      </div>

      {ops.recentAlerts.length ? (
        <>
          <h2>Recently resolved alerts</h2>
          <ul>
            {ops.recentAlerts.map((a) => (
              <li key={a.id}>
                {a.message} — resolved {a.resolvedAt ? new Date(a.resolvedAt).toLocaleString() : ""}
              </li>
            ))}
          </ul>
        </>
      ) : null}

      <h2>Worker check</h2>
      <Form method="post">
        <CsrfField />
        <p className="muted">Queue a diagnostic job and see which worker process ran it (admin and ops).</p>
        <button type="submit" className="primary">
          Queue a diagnostic job
        </button>
      </Form>
      {summary.recentJobs.length ? (
        <table>
          <thead>
            <tr>
              <th>Job</th>
              <th>Worker</th>
              <th>At</th>
            </tr>
          </thead>
          <tbody>
            {summary.recentJobs.map((j) => (
              <tr key={j.jobKey}>
                <td>{j.jobKey}</td>
                <td>{j.workerId}</td>
                <td>{new Date(j.at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <div className="card">
      <div className="figure">{value}</div>
      <div className="label">{label}</div>
    </div>
  );
}
