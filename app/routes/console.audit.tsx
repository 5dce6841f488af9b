// /console/audit: every change by a person or the system, newest first, with
// filters (validated: a bad value answers 400 and says why), keyset pages, each
// entry's before and after as a diff, and the filtered entries as CSV
// (/console/audit.csv). The log itself is append-only in the database.
import { data, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { listAuditPage, parseAuditFilters } from "~/audit/query.server";
import { auditDiff, showValue, type DiffLine } from "~/audit/diff";
import { ACTOR_TYPES, filterQuery, type FilterValues } from "~/audit/filters";
import { formatWhen } from "~/components/connectors/labels";
import auditStyles from "~/styles/audit.css";

export const meta: MetaFunction = () => [{ title: "Audit log · WedSync Integration Hub" }];
export const links: LinksFunction = () => [{ rel: "stylesheet", href: auditStyles }];

interface EntryView {
  id: number;
  at: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  entityType: string;
  entityId: string | null;
  changes: DiffLine[];
}

interface AuditView {
  error: string | null;
  values: FilterValues;
  limit: number | undefined;
  entries: EntryView[];
  olderThan: number | null;
  newerThan: number | null;
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context, ["admin", "ops"]);
  const parsed = parseAuditFilters(new URL(request.url).searchParams);
  if (!parsed.ok) {
    const view: AuditView = {
      error: parsed.message,
      values: parsed.values,
      limit: undefined,
      entries: [],
      olderThan: null,
      newerThan: null,
    };
    return data(view, { status: 400 });
  }
  const page = await listAuditPage(context.hub.db, parsed.filters);
  const view: AuditView = {
    error: null,
    values: parsed.values,
    limit: parsed.filters.limit,
    entries: page.rows.map((e) => ({
      id: e.id,
      at: e.at.toISOString(),
      actorType: e.actorType,
      actorId: e.actorId,
      actorLabel: e.actorLabel,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId,
      changes: auditDiff(e.before, e.after),
    })),
    olderThan: page.olderThan,
    newerThan: page.newerThan,
  };
  return data(view);
}

/** Console pages for the entities that have one. */
function entityHref(type: string, id: string | null): string | null {
  if (!id) return null;
  if (type === "couple") return `/console/couples/${encodeURIComponent(id)}`;
  if (type === "sync_run") return `/console/imports/${encodeURIComponent(id)}`;
  if (type === "message") return `/console/messages/${encodeURIComponent(id)}`;
  return null;
}

function Changes({ lines }: { lines: DiffLine[] }) {
  if (lines.length === 0) return <span className="muted">–</span>;
  return (
    <ul className="audit-diff">
      {lines.map((l) => (
        <li key={l.path} data-change={l.change}>
          {l.path ? <code>{l.path}</code> : null}
          {l.path ? ": " : null}
          {l.change === "added" ? (
            <ins>{showValue(l.after)}</ins>
          ) : l.change === "removed" ? (
            <del>{showValue(l.before)}</del>
          ) : (
            <>
              <del>{showValue(l.before)}</del> → <ins>{showValue(l.after)}</ins>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

export default function AuditLog() {
  const { error, values, limit, entries, olderThan, newerThan } = useLoaderData<typeof loader>();
  const exportHref = `/console/audit.csv${filterQuery(values)}`;
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">
        Every change by a person or the system, newest first, with what it was before and after. The log is append-only.
      </p>
      <Form method="get" className="audit-filters" aria-label="Filter the audit log">
        <div>
          <label htmlFor="audit-actor-type">Actor type</label>
          <select id="audit-actor-type" name="actorType" defaultValue={values.actorType ?? ""}>
            <option value="">any</option>
            {ACTOR_TYPES.map((t) => (
              <option key={t} value={t}>
                {t === "api_token" ? "API token" : t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="audit-actor">Actor</label>
          <input
            id="audit-actor"
            type="text"
            name="actor"
            defaultValue={values.actor ?? ""}
            placeholder="email, token name or id"
          />
        </div>
        <div>
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            type="text"
            name="action"
            defaultValue={values.action ?? ""}
            placeholder="mapping or mapping.publish"
          />
        </div>
        <div>
          <label htmlFor="audit-entity-type">Entity type</label>
          <input
            id="audit-entity-type"
            type="text"
            name="entityType"
            defaultValue={values.entityType ?? ""}
            placeholder="couple"
          />
        </div>
        <div>
          <label htmlFor="audit-entity-id">Entity id</label>
          <input id="audit-entity-id" type="text" name="entityId" defaultValue={values.entityId ?? ""} />
        </div>
        <div>
          <label htmlFor="audit-from">From (UTC)</label>
          <input id="audit-from" type="text" name="from" defaultValue={values.from ?? ""} placeholder="2026-05-01T09:00" />
        </div>
        <div>
          <label htmlFor="audit-to">To (UTC)</label>
          <input id="audit-to" type="text" name="to" defaultValue={values.to ?? ""} placeholder="2026-05-01T18:00" />
        </div>
        <div className="form-actions">
          <button type="submit" className="secondary">
            Filter
          </button>
          <Link to="/console/audit">Clear filters</Link>
          {error ? null : (
            <a href={exportHref} download data-export>
              Export these entries as CSV
            </a>
          )}
        </div>
      </Form>

      {error ? (
        <p className="alert error" role="alert" data-filter-error>
          {error}
        </p>
      ) : entries.length === 0 ? (
        <p className="muted" data-audit-empty>
          No entries match these filters.
        </p>
      ) : (
        <div className="table-scroll">
          <table data-audit>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">What</th>
                <th scope="col">Before → after</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => {
                const href = entityHref(e.entityType, e.entityId);
                return (
                  <tr key={e.id} data-audit-id={e.id}>
                    <td>
                      <time dateTime={e.at}>{formatWhen(e.at)}</time>
                    </td>
                    <td data-actor-type={e.actorType} title={e.actorId ? `${e.actorType} ${e.actorId}` : e.actorType}>
                      {e.actorLabel}
                    </td>
                    <td>{e.action}</td>
                    <td>
                      {e.entityType}
                      {e.entityId ? (
                        <>
                          {" "}
                          {href ? (
                            <Link to={href}>
                              <code>{e.entityId}</code>
                            </Link>
                          ) : (
                            <code>{e.entityId}</code>
                          )}
                        </>
                      ) : null}
                    </td>
                    <td>
                      <Changes lines={e.changes} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {newerThan !== null || olderThan !== null ? (
        <nav className="audit-pager" aria-label="Audit log pages">
          {newerThan !== null ? (
            <Link to={`/console/audit${filterQuery(values, { after: newerThan, limit })}`} rel="prev">
              ← Newer entries
            </Link>
          ) : null}
          {olderThan !== null ? (
            <Link to={`/console/audit${filterQuery(values, { before: olderThan, limit })}`} rel="next">
              Older entries →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
