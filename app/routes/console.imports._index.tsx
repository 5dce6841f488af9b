// CRM imports: pick a vendor's CRM connection (any connector the import engine
// has a source for), dry-run the first records as the mapping turns them into
// WedSync clients, or start an import and watch it live; recent runs below.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ConflictError, DomainError } from "~/errors";
import { findConnector } from "~/connectors/catalog";
import { importSourceIds, type DryRunRecord } from "~/import/engine.server";
import { SourceAuthError, SourceUnavailableError } from "~/import/source";
import { DRY_RUN_LIMIT, dryRunImport, listImportConnections, listImportRuns, startConsoleImport } from "~/import/console.server";
import { EmptyState } from "~/components/Shell";
import { CsrfField } from "~/components/CsrfField";
import { fieldLabel, showValue } from "~/components/CoreFieldsView";
import { formatWhen } from "~/components/connectors/labels";
import { ImportProgressBar, LiveIndicator, useImportProgress } from "~/components/ImportProgress";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const [connections, runs] = await Promise.all([listImportConnections(context.hub.db), listImportRuns(context.hub.db, 30)]);
  return {
    sources: importSourceIds().map((id) => findConnector(id)?.name ?? id),
    connections: connections.map((c) => ({
      ...c,
      lastRun: c.lastRun ? { ...c.lastRun, finishedAt: c.lastRun.finishedAt?.toISOString() ?? null } : null,
    })),
    runs: runs.map((r) => ({
      ...r,
      createdAt: r.createdAt.toISOString(),
      startedAt: r.startedAt?.toISOString() ?? null,
      finishedAt: r.finishedAt?.toISOString() ?? null,
    })),
  };
}

type ActionReply =
  | { kind: "dry-run"; connectionId: string; total: number | null; records: DryRunRecord[] }
  | { kind: "error"; connectionId: string; message: string; liveRunId?: string };

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const intent = String(form.get("intent") ?? "");
  const connectionId = String(form.get("connectionId") ?? "");
  const actor = { type: "user" as const, id: user.id, label: user.email };
  if (!connectionId)
    return data<ActionReply>({ kind: "error", connectionId, message: "Choose a CRM connection first." }, { status: 400 });
  try {
    if (intent === "dry-run") {
      const view = await dryRunImport(context.hub, connectionId, actor);
      return data<ActionReply>({ kind: "dry-run", ...view });
    }
    if (intent === "start") {
      const runId = await startConsoleImport(context.hub, connectionId, actor);
      return redirect(`/console/imports/${runId}`);
    }
    return data<ActionReply>({ kind: "error", connectionId, message: "Unknown action." }, { status: 400 });
  } catch (err) {
    if (err instanceof ConflictError) {
      const live = err.details.runId;
      return data<ActionReply>(
        { kind: "error", connectionId, message: err.message, liveRunId: typeof live === "string" ? live : undefined },
        { status: 409 },
      );
    }
    if (err instanceof DomainError)
      return data<ActionReply>({ kind: "error", connectionId, message: err.message }, { status: err.status });
    // The provider refused the key or could not be reached: say so, in words a person can act on.
    if (err instanceof SourceAuthError)
      return data<ActionReply>(
        { kind: "error", connectionId, message: `${err.message} Ask the vendor to reconnect this account.` },
        { status: 502 },
      );
    if (err instanceof SourceUnavailableError)
      return data<ActionReply>(
        { kind: "error", connectionId, message: `${err.message}. Try the dry run again in a few minutes.` },
        { status: 502 },
      );
    // A dry run talks to the provider inside this request: a network failure is the provider's, not a crash.
    if (intent === "dry-run" && err instanceof Error) {
      context.hub.log.warn({ err, connectionId }, "import dry run failed");
      return data<ActionReply>(
        { kind: "error", connectionId, message: `The dry run could not read from the CRM (${err.message}). Try again shortly.` },
        { status: 502 },
      );
    }
    throw err;
  }
}

/** Columns of the dry-run table: every field any record mapped to, in first-seen order. */
function mappedColumns(records: DryRunRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.output ?? {})) if (k !== "externalId") seen.add(k);
  return [...seen];
}

const STATUS_TEXT: Record<string, string> = {
  queued: "queued",
  running: "running",
  succeeded: "finished",
  failed: "failed",
  cancelled: "cancelled",
};

export default function Imports() {
  const { sources, connections, runs } = useLoaderData<typeof loader>();
  const reply = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" ? String(navigation.formData?.get("intent") ?? "") : null;
  const { runs: live, connection } = useImportProgress();
  const selected = reply?.connectionId ?? connections.find((c) => c.status === "active")?.connectionId ?? "";
  const dry = reply?.kind === "dry-run" ? reply : null;
  const columns = dry ? mappedColumns(dry.records) : [];

  return (
    <>
      <h1>Imports</h1>
      <p>
        Bring a vendor&apos;s clients from their CRM into WedSync as couples. Imports can come from{" "}
        {sources.length ? sources.join(", ") : "no CRM yet"}. A dry run shows what the first {DRY_RUN_LIMIT} records would become
        and writes nothing. Connections that have imported once are imported again every hour.
      </p>

      {reply?.kind === "error" ? (
        <div className="alert error" role="alert" data-import-error>
          <p>{reply.message}</p>
          {reply.liveRunId ? (
            <p>
              <Link to={`/console/imports/${reply.liveRunId}`}>Watch the import that is running</Link>
            </p>
          ) : null}
        </div>
      ) : null}

      {connections.length === 0 ? (
        <EmptyState title="No CRM connections to import from">
          <p>When a vendor connects {sources.length ? sources.join(", ") : "a CRM"}, the connection shows here.</p>
        </EmptyState>
      ) : (
        <Form method="post" className="field-group" aria-label="Import clients">
          <CsrfField />
          <label htmlFor="connectionId">CRM connection</label>
          <select id="connectionId" name="connectionId" defaultValue={selected} key={selected}>
            {connections.map((c) => (
              <option key={c.connectionId} value={c.connectionId} disabled={c.status !== "active"}>
                {c.supplierName} – {c.connectorName}
                {c.accountLabel ? ` (${c.accountLabel})` : ""}
                {c.status !== "active" ? " – needs reconnect" : c.liveRunId ? " – import running" : ""}
              </option>
            ))}
          </select>
          <div className="form-actions">
            <button type="submit" name="intent" value="dry-run" className="secondary" disabled={busy !== null}>
              {busy === "dry-run" ? "Mapping records…" : "Dry run"}
            </button>
            <button type="submit" name="intent" value="start" className="primary" disabled={busy !== null}>
              {busy === "start" ? "Starting…" : "Start import"}
            </button>
          </div>
        </Form>
      )}

      {dry ? (
        <section aria-labelledby="dry-run-heading" data-dry-run>
          <h2 id="dry-run-heading">Dry run: the first {dry.records.length} records as WedSync clients</h2>
          <p className="muted">
            {`${dry.total === null ? "" : `${dry.total} records at the source. `}${
              dry.records.filter((r) => r.errors).length
            } of these would fail. Nothing was written.`}
          </p>
          <div className="table-scroll">
            <table className="connections">
              <thead>
                <tr>
                  <th scope="col">External id</th>
                  {columns.map((c) => (
                    <th scope="col" key={c}>
                      {fieldLabel(c)}
                    </th>
                  ))}
                  <th scope="col">Problems</th>
                </tr>
              </thead>
              <tbody>
                {dry.records.map((r, i) => (
                  <tr key={`${r.externalId ?? "none"}-${i}`} data-dry-run-record={r.externalId ?? ""}>
                    <td>
                      <code>{r.externalId ?? "(no id)"}</code>
                    </td>
                    {columns.map((c) => (
                      <td key={c}>{r.output ? showValue(r.output[c]) : ""}</td>
                    ))}
                    <td>{r.errors ? <span className="error-text">{r.errors.reason}</span> : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}

      <h2>Recent imports</h2>
      <LiveIndicator connection={connection} />
      {runs.length === 0 ? (
        <p className="muted">No imports yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="connections" aria-label="Recent imports">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Supplier</th>
                <th scope="col">CRM</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">New / updated / unchanged / failed</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const l = live[r.id];
                const counts = l?.counts ?? r.counts;
                return (
                  <tr key={r.id} data-import-run={r.id}>
                    <td>
                      <Link to={`/console/imports/${r.id}`}>{formatWhen(r.startedAt ?? r.createdAt)}</Link>
                    </td>
                    <td>{r.supplierName ?? "–"}</td>
                    <td>
                      {r.connectorName ?? "–"}
                      {r.onlyExternalIds !== null ? <div className="muted">{r.onlyExternalIds} failed records re-run</div> : null}
                    </td>
                    <td>{STATUS_TEXT[l?.status ?? r.status] ?? r.status}</td>
                    <td>
                      <ImportProgressBar
                        runId={r.id}
                        initial={r}
                        live={l}
                        label={`Progress of the import for ${r.supplierName ?? "a supplier"}`}
                      />
                    </td>
                    <td>
                      {counts.new} / {counts.updated} / {counts.unchanged} / {counts.failed}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
