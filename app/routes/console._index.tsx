import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { dashboardSummary } from "~/dashboard/summary.server";
import { queueDiagnosticPings } from "~/diagnostics/ping.server";
import { recordAudit } from "~/audit/audit.server";
import { CsrfField } from "~/components/CsrfField";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { summary: await dashboardSummary(context.hub.db) };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context, ["admin", "ops"]);
  await readVerifiedForm(request, context);
  const keys = await context.hub.db.transaction(async (tx) => {
    const queued = await queueDiagnosticPings(tx, 1);
    await recordAudit(
      tx,
      { type: "user", id: user.id, label: user.email },
      { action: "diagnostics.ping", entityType: "job", entityId: queued[0] },
    );
    return queued;
  });
  return data({ queued: keys[0] });
}

export default function Dashboard() {
  const { summary } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>Dashboard</h1>
      <div className="cards">
        <Figure label="Suppliers" value={summary.suppliers} />
        <Figure label="Couples" value={summary.couples} />
        <Figure label="Connections" value={summary.connections} />
        <Figure label="Need reconnect" value={summary.connectionsNeedingReconnect} />
        <Figure label="Core-field changes (24 h)" value={summary.eventsLast24h} />
      </div>

      <h2>Job queue</h2>
      {summary.queue.length === 0 ? (
        <p className="muted">No jobs waiting: the workers are keeping up.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Task</th>
              <th>Waiting</th>
              <th>Oldest</th>
            </tr>
          </thead>
          <tbody>
            {summary.queue.map((q) => (
              <tr key={q.task}>
                <td>{q.task}</td>
                <td>{q.waiting}</td>
                <td>{q.oldestSeconds === null ? "–" : `${q.oldestSeconds} s`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Worker check</h2>
      <Form method="post">
        <CsrfField />
        <p className="muted">Queue a diagnostic job and see which worker process ran it (admin and ops).</p>
        <button type="submit" className="primary">
          Queue a diagnostic job
        </button>
      </Form>
      {result?.queued ? (
        <p className="alert ok" role="status">
          Queued {result.queued}. Reload to see it below once a worker has run it.
        </p>
      ) : null}
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
      <p className="muted">Live KPIs, charts and alerts arrive with the ops dashboard.</p>
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
