import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff, type StaffRole } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listAllConnections } from "~/connectors/connections.server";
import { EmptyState } from "~/components/Shell";
import { CsrfField } from "~/components/CsrfField";
import { formatWhen, relativeTo } from "~/components/connectors/labels";
import { refreshNow } from "~/components/connectors/refresh.server";
import type { RefreshResult } from "~/components/connectors/types";

/** Staff roles that may force a token refresh; integration staff may look. */
const REFRESHERS: StaffRole[] = ["admin", "ops"];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  const now = Date.now();
  const rows = await listAllConnections(context.hub.db);
  const connections = rows.map((c) => ({
    id: c.id,
    supplierName: c.supplierName ?? "–",
    connectorId: c.connectorId,
    connectorName: c.connectorName,
    accountLabel: c.accountLabel,
    status: c.status,
    scopes: c.scopes,
    tokenExpiresAt: c.tokenExpiresAt?.toISOString() ?? null,
    tokenExpiresIn: relativeTo(c.tokenExpiresAt, now),
    lastRefreshedAt: c.lastRefreshedAt?.toISOString() ?? null,
    lastRefreshedAgo: relativeTo(c.lastRefreshedAt, now),
    lastError: c.lastError,
    createdAt: c.createdAt.toISOString(),
  }));
  return { connections, canRefresh: REFRESHERS.includes(user.role as StaffRole) };
}

const reply = (result: RefreshResult, status = 200) => data(result, { status });

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const connectionId = String(form.get("connectionId") ?? "") || null;
  if (!REFRESHERS.includes(user.role as StaffRole)) {
    return reply(
      {
        connectionId,
        tone: "error",
        message: `Refreshing tokens needs the admin or ops role; you are signed in as ${user.role}.`,
      },
      403,
    );
  }
  if (form.get("intent") !== "refresh") return reply({ connectionId, tone: "error", message: "Unknown action." }, 400);
  const { status, result } = await refreshNow(context.hub, connectionId ?? "", {
    type: "user",
    id: user.id,
    label: user.email,
  });
  return reply(result, status);
}

const STATUS_TEXT = { active: "active", needs_reconnect: "needs reconnect", disconnected: "disconnected" } as const;

export default function Connections() {
  const { connections, canRefresh } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const refreshing = navigation.state === "submitting" ? navigation.formData?.get("connectionId") : null;

  return (
    <>
      <h1>Connections</h1>
      {result ? (
        <p
          className={`alert ${result.tone}`}
          role={result.tone === "ok" ? "status" : "alert"}
          data-connection-result={result.connectionId ?? undefined}
        >
          {result.message}
        </p>
      ) : null}
      {connections.length === 0 ? (
        <EmptyState title="No vendor connections yet">
          <p>
            When vendors connect their calendar, CRM or messaging accounts (under Connections in their area), each connection and
            its health appears here.
          </p>
        </EmptyState>
      ) : (
        <>
          <p className="muted">
            {connections.length} connection{connections.length === 1 ? "" : "s"}, newest first. Tokens refresh on their own five
            minutes before they expire.
          </p>
          <div className="table-scroll">
            <table className="connections">
              <thead>
                <tr>
                  <th scope="col">Supplier</th>
                  <th scope="col">Connector</th>
                  <th scope="col">Account</th>
                  <th scope="col">Status</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Token expires</th>
                  <th scope="col">Last refresh</th>
                  <th scope="col">Last error</th>
                  {canRefresh ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {connections.map((c) => (
                  <tr key={c.id} data-connection={c.id} data-connector={c.connectorId}>
                    <td>{c.supplierName}</td>
                    <td>{c.connectorName}</td>
                    <td>Connected as {c.accountLabel ?? "an unknown account"}</td>
                    <td>
                      <span className={`badge ${c.status}`}>{STATUS_TEXT[c.status]}</span>
                    </td>
                    <td>
                      {c.scopes.length ? (
                        <ul className="scope-list">
                          {c.scopes.map((s) => (
                            <li key={s}>
                              <code>{s}</code>
                            </li>
                          ))}
                        </ul>
                      ) : (
                        "–"
                      )}
                    </td>
                    <td>
                      <time dateTime={c.tokenExpiresAt ?? undefined}>{formatWhen(c.tokenExpiresAt)}</time>
                      {c.tokenExpiresIn ? <div className="muted">{c.tokenExpiresIn}</div> : null}
                    </td>
                    <td>
                      {c.lastRefreshedAt ? (
                        <>
                          <time dateTime={c.lastRefreshedAt}>{formatWhen(c.lastRefreshedAt)}</time>
                          <div className="muted">{c.lastRefreshedAgo}</div>
                        </>
                      ) : (
                        <span className="muted">not yet</span>
                      )}
                    </td>
                    <td>{c.lastError ? <span className="error-text">{c.lastError}</span> : "–"}</td>
                    {canRefresh ? (
                      <td>
                        {c.status === "active" ? (
                          <Form method="post" preventScrollReset>
                            <CsrfField />
                            <input type="hidden" name="intent" value="refresh" />
                            <input type="hidden" name="connectionId" value={c.id} />
                            <button
                              type="submit"
                              className="secondary"
                              disabled={refreshing === c.id}
                              aria-label={`Refresh token now for ${c.supplierName}'s ${c.connectorName}`}
                            >
                              {refreshing === c.id ? "Refreshing…" : "Refresh token now"}
                            </button>
                          </Form>
                        ) : (
                          <span className="muted">The vendor must reconnect.</span>
                        )}
                      </td>
                    ) : null}
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
