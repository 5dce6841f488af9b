// One import run: live progress while it runs, then its counts, the mapping
// version it used, how long it took, and every failed record with its reason;
// failures as CSV, and "Re-run failed records" (a new run of only those ids).
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ConflictError, DomainError, NotFoundError } from "~/errors";
import { getImportRun, rerunFailedRecords } from "~/import/console.server";
import { formatDuration } from "~/import/progress";
import { CsrfField } from "~/components/CsrfField";
import { formatWhen } from "~/components/connectors/labels";
import { ImportProgressBar, LiveIndicator, useImportProgress } from "~/components/ImportProgress";

export const meta: MetaFunction = () => [{ title: "Import run · WedSync Integration Hub" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  try {
    const run = await getImportRun(context.hub.db, params.runId ?? "");
    return {
      run: {
        ...run,
        createdAt: run.createdAt.toISOString(),
        startedAt: run.startedAt?.toISOString() ?? null,
        finishedAt: run.finishedAt?.toISOString() ?? null,
      },
    };
  } catch (err) {
    if (err instanceof NotFoundError) throw data({ message: err.message }, { status: 404 });
    throw err;
  }
}

type ActionReply = { message: string; liveRunId?: string };

export async function action({ request, context, params }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  if (form.get("intent") !== "rerun-failed") return data<ActionReply>({ message: "Unknown action." }, { status: 400 });
  try {
    const runId = await rerunFailedRecords(context.hub, params.runId ?? "", {
      type: "user",
      id: user.id,
      label: user.email,
    });
    return redirect(`/console/imports/${runId}`);
  } catch (err) {
    if (err instanceof ConflictError) {
      const live = err.details.runId;
      return data<ActionReply>({ message: err.message, liveRunId: typeof live === "string" ? live : undefined }, { status: 409 });
    }
    if (err instanceof DomainError) return data<ActionReply>({ message: err.message }, { status: err.status });
    throw err;
  }
}

const STATUS_TEXT: Record<string, string> = {
  queued: "Queued: waiting for a worker",
  running: "Running",
  succeeded: "Finished",
  failed: "Failed",
  cancelled: "Cancelled",
};

export default function ImportRun() {
  const { run } = useLoaderData<typeof loader>();
  const reply = useActionData<typeof action>();
  const navigation = useNavigation();
  const { runs: live, connection } = useImportProgress();
  const l = live[run.id];
  const status = l?.status ?? run.status;
  const counts = l?.counts ?? run.counts;
  const going = status === "queued" || status === "running";
  const title = `${run.supplierName ?? "Unknown supplier"} · ${run.connectorName ?? "CRM"} import`;

  return (
    <>
      <p>
        <Link to="/console/imports">← All imports</Link>
      </p>
      <h1>{title}</h1>
      {reply ? (
        <div className="alert error" role="alert" data-import-error>
          <p>{reply.message}</p>
          {reply.liveRunId ? (
            <p>
              <Link to={`/console/imports/${reply.liveRunId}`}>Watch the import that is running</Link>
            </p>
          ) : null}
        </div>
      ) : null}

      <p data-run-status={status}>
        <strong>{STATUS_TEXT[status] ?? status}</strong>
        {run.onlyExternalIds !== null ? ` · re-run of ${run.onlyExternalIds} failed records` : ""}
      </p>
      <ImportProgressBar runId={run.id} initial={run} live={l} label="Import progress" />
      {going ? <LiveIndicator connection={connection} /> : null}

      <dl className="fields" aria-label="Result">
        <dt>New</dt>
        <dd data-count="new">{counts.new}</dd>
        <dt>Updated</dt>
        <dd data-count="updated">{counts.updated}</dd>
        <dt>Unchanged</dt>
        <dd data-count="unchanged">{counts.unchanged}</dd>
        <dt>Failed</dt>
        <dd data-count="failed">{counts.failed}</dd>
        <dt>Mapping</dt>
        <dd data-mapping>
          {run.mapping.slug ? (
            <Link to={`/console/mappings/${run.mapping.slug}`}>{`${run.mapping.slug} v${run.mapping.version}`}</Link>
          ) : run.status === "queued" ? (
            "chosen when the run starts"
          ) : (
            "the file in mappings/ (no published version)"
          )}
        </dd>
        <dt>Account</dt>
        <dd>{run.accountLabel ?? "–"}</dd>
        <dt>Started</dt>
        <dd>{formatWhen(run.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatWhen(run.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd data-duration>{run.durationMs === null ? "–" : formatDuration(run.durationMs / 1000)}</dd>
      </dl>

      <h2>Failed records</h2>
      {run.failures.length === 0 ? (
        <p className="muted">{going ? "None so far." : "None: every record imported."}</p>
      ) : (
        <>
          {counts.failed > run.failures.length ? (
            <p className="alert warn">
              {counts.failed} records failed; the first {run.failures.length} are listed and can be re-run.
            </p>
          ) : null}
          <div className="form-actions">
            <a href={`/console/imports/${run.id}/failures.csv`} download className="button" data-failures-csv>
              Download failures (CSV)
            </a>
            {!going && run.failedIds.length > 0 ? (
              <Form method="post">
                <CsrfField />
                <input type="hidden" name="intent" value="rerun-failed" />
                <button type="submit" className="primary" disabled={navigation.state === "submitting"}>
                  {navigation.state === "submitting" ? "Starting…" : `Re-run ${run.failedIds.length} failed records`}
                </button>
              </Form>
            ) : null}
          </div>
          <div className="table-scroll">
            <table className="connections" aria-label="Failed records">
              <thead>
                <tr>
                  <th scope="col">External id</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {run.failures.map((f, i) => (
                  <tr key={`${f.externalId ?? "run"}-${i}`} data-failure={f.externalId ?? ""}>
                    <td>{f.externalId ? <code>{f.externalId}</code> : <span className="muted">the whole run</span>}</td>
                    <td>{f.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
