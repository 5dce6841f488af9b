// /console/consistency: what the consistency checker found (the data-inconsistency
// KPI's drill-down). Open findings first, each naming its item and what is wrong,
// then recently resolved ones; the last runs with per-invariant counts; and
// "Run now" (admin and ops), which queues the check once however often it is pressed.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff, type StaffRole } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { CsrfField } from "~/components/CsrfField";
import { EmptyState } from "~/components/Shell";
import { formatWhen, relativeTo } from "~/components/connectors/labels";
import {
  consistencyRunPending,
  listFindings,
  recentRuns,
  requestConsistencyRun,
  type FindingView,
} from "~/ops/consistency.server";
import { INVARIANTS, INVARIANT_IDS, findingHref, invariantLabel } from "~/ops/consistency-defs";

export const meta: MetaFunction = () => [{ title: "Data consistency · WedSync Integration Hub" }];

const RUNNERS: StaffRole[] = ["admin", "ops"];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  const db = context.hub.db;
  const [findings, runs, pending] = await Promise.all([listFindings(db), recentRuns(db), consistencyRunPending(db)]);
  return {
    findings,
    runs,
    pending,
    canRun: RUNNERS.includes(user.role as StaffRole),
    now: Date.now(),
  };
}

interface Reply {
  tone: "ok" | "error";
  message: string;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context, RUNNERS);
  const form = await readVerifiedForm(request, context);
  if (form.get("intent") !== "run") return data<Reply>({ tone: "error", message: "Unknown action." }, { status: 400 });
  await requestConsistencyRun(context.hub.db, { type: "user", id: user.id, label: user.email });
  return data<Reply>({
    tone: "ok",
    message: "Check queued: a worker runs it now (one at a time). Reload in a few seconds to see the result.",
  });
}

/** "expected 7, found 6" first, then the rest of the detail as key: value. */
function describe(detail: Record<string, unknown>): { headline: string | null; rest: [string, string][] } {
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const headline =
    "expected" in detail && "found" in detail ? `expected ${show(detail.expected)}, found ${show(detail.found)}` : null;
  const rest = Object.entries(detail)
    .filter(([k, v]) => (headline === null || (k !== "expected" && k !== "found")) && v !== null && v !== undefined)
    .map(([k, v]): [string, string] => [k, show(v)]);
  return { headline, rest };
}

function duration(startedAt: string, finishedAt: string | null): string {
  if (!finishedAt) return "running";
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export default function Consistency() {
  const { findings, runs, pending, canRun, now } = useLoaderData<typeof loader>();
  const reply = useActionData<typeof action>();
  const navigation = useNavigation();
  const open = findings.filter((f) => f.resolvedAt === null);
  const resolved = findings.filter((f) => f.resolvedAt !== null);
  const last = runs.find((r) => r.finishedAt !== null) ?? null;

  return (
    <>
      <h1>Data consistency</h1>
      <p className="muted">
        The consistency checker verifies the hub&apos;s invariants every 5 minutes and names each item that breaks one. The
        dashboard&apos;s &quot;Data inconsistencies&quot; figure is the number of open findings.
      </p>
      {reply ? (
        <p className={`alert ${reply.tone}`} role={reply.tone === "ok" ? "status" : "alert"}>
          {reply.message}
        </p>
      ) : null}

      <section aria-label="Last run" data-last-run={last?.id ?? ""}>
        {last ? (
          <p>
            Last run <time dateTime={last.finishedAt!}>{formatWhen(last.finishedAt)}</time> ({relativeTo(last.finishedAt, now)},
            took {duration(last.startedAt, last.finishedAt)}):{" "}
            <strong data-run-found={last.found}>
              {last.found === 0 ? "nothing inconsistent" : `${last.found} inconsistent item${last.found === 1 ? "" : "s"}`}
            </strong>
            {last.error ? <span className="error-text"> · the run failed: {last.error}</span> : null}
          </p>
        ) : (
          <p className="muted" data-last-run-none>
            The checker has not run yet, so the figure is unknown.
          </p>
        )}
        {canRun ? (
          <Form method="post" preventScrollReset>
            <CsrfField />
            <input type="hidden" name="intent" value="run" />
            <button type="submit" disabled={navigation.state === "submitting"}>
              {navigation.state === "submitting" ? "Queuing…" : pending ? "Check queued – run now" : "Run now"}
            </button>
          </Form>
        ) : null}
      </section>

      <h2 data-open-findings={open.length}>Open findings ({open.length})</h2>
      {open.length === 0 ? (
        <EmptyState title="No open findings">
          <p>{last ? "Every invariant held at the last run." : "Findings appear here after the first run."}</p>
        </EmptyState>
      ) : (
        <FindingsTable rows={open} />
      )}

      {resolved.length > 0 ? (
        <>
          <h2>Recently resolved</h2>
          <FindingsTable rows={resolved} />
        </>
      ) : null}

      <h2>Invariants and recent runs</h2>
      <div className="table-scroll">
        <table data-runs>
          <thead>
            <tr>
              <th scope="col">Run</th>
              {INVARIANT_IDS.map((id) => (
                <th scope="col" key={id} title={INVARIANTS[id].rule}>
                  {INVARIANTS[id].label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-run={r.id}>
                <td>
                  {formatWhen(r.startedAt)}
                  <div className="muted">{r.error ? `failed: ${r.error}` : duration(r.startedAt, r.finishedAt)}</div>
                </td>
                {INVARIANT_IDS.map((id) => {
                  const c = r.checked[id];
                  if (!c) return <td key={id}>–</td>;
                  return (
                    <td key={id} data-invariant={id} className={c.found > 0 ? "error-text" : undefined}>
                      {c.found} of {c.checked}
                      {c.unchecked ? <div className="muted">{c.unchecked} unchecked</div> : null}
                      {c.error ? <div className="error-text">{c.error}</div> : null}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function FindingsTable({ rows }: { rows: FindingView[] }) {
  return (
    <div className="table-scroll">
      <table data-findings>
        <thead>
          <tr>
            <th scope="col">Invariant</th>
            <th scope="col">Item</th>
            <th scope="col">What is wrong</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Resolved</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => {
            const href = findingHref(f.entityType, f.entityId, f.detail);
            const { headline, rest } = describe(f.detail);
            return (
              <tr key={f.id} data-finding={f.id} data-invariant={f.invariant} data-entity={`${f.entityType}:${f.entityId}`}>
                <td>{invariantLabel(f.invariant)}</td>
                <td>
                  {f.entityType}{" "}
                  {href ? (
                    <Link to={href}>
                      <code>{f.entityId}</code>
                    </Link>
                  ) : (
                    <code>{f.entityId}</code>
                  )}
                </td>
                <td>
                  {headline ? <strong>{headline}</strong> : null}
                  {rest.length ? (
                    <div className="muted">
                      {rest.map(([k, v]) => (
                        <span key={k}>
                          {k}: <code>{v}</code>{" "}
                        </span>
                      ))}
                    </div>
                  ) : null}
                </td>
                <td>{formatWhen(f.firstSeenAt)}</td>
                <td>{formatWhen(f.lastSeenAt)}</td>
                <td>{f.resolvedAt ? formatWhen(f.resolvedAt) : "open"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
