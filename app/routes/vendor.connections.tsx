import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listSupplierConnections } from "~/connectors/connections.server";
import { CATALOG, findConnector } from "~/connectors/catalog";
import { beginAuthorization } from "~/oauth/flow.server";
import { disconnectConnection } from "~/oauth/tokens.server";
import { DomainError } from "~/errors";
import { CsrfField } from "~/components/CsrfField";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const mine = await listSupplierConnections(context.hub.db, user.supplierId);
  const connectable = CATALOG.filter((c) => c.auth.kind === "oauth2").map((c) => ({
    id: c.id,
    name: c.name,
    description: c.description,
    category: c.category,
  }));
  return { connections: mine, connectable };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireVendor(request, context);
  const form = await readVerifiedForm(request, context);
  const intent = String(form.get("intent") ?? "");
  try {
    if (intent === "connect" || intent === "reconnect") {
      const connectorId = String(form.get("connectorId") ?? "");
      const manifest = findConnector(connectorId);
      if (!manifest || manifest.auth.kind !== "oauth2") return data({ error: "Choose a connector to connect." }, { status: 400 });
      const url = await beginAuthorization(context.hub, {
        userId: user.id,
        supplierId: user.supplierId,
        sessionHash: user.sessionHash,
        connectorId,
        connectionId: intent === "reconnect" ? String(form.get("connectionId") ?? "") || undefined : undefined,
      });
      return redirect(url);
    }
    if (intent === "disconnect") {
      const id = String(form.get("connectionId") ?? "");
      await disconnectConnection(context.hub, user.supplierId, id, { type: "user", id: user.id, label: user.email });
      return redirect("/vendor/connections?disconnected=1");
    }
    return data({ error: "Unknown action." }, { status: 400 });
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) return data({ error: err.message }, { status: err.status });
    if (err instanceof DomainError) return data({ error: err.message }, { status: err.status });
    throw err;
  }
}

const STATUS_TEXT = { active: "Connected", needs_reconnect: "Needs reconnect", disconnected: "Disconnected" } as const;

export default function VendorConnections() {
  const { connections, connectable } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  return (
    <>
      <h1>Connections</h1>
      {params.get("connected") ? (
        <p className="alert ok" role="status">
          Connected as {params.get("connected")}.
        </p>
      ) : null}
      {params.get("disconnected") ? (
        <p className="alert ok" role="status">
          Disconnected. The hub no longer holds any credentials for that account.
        </p>
      ) : null}
      {result && "error" in result ? (
        <p className="alert error" role="alert">
          {result.error}
        </p>
      ) : null}

      <h2>Your connected accounts</h2>
      {connections.length === 0 ? (
        <p className="muted">Nothing connected yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Service</th>
              <th>Account</th>
              <th>Status</th>
              <th>Access</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.id} data-connection={c.connectorId}>
                <td>{c.connectorName}</td>
                <td>Connected as {c.accountLabel ?? "unknown account"}</td>
                <td>
                  <span className={`badge ${c.status}`}>{STATUS_TEXT[c.status]}</span>
                  {c.lastError ? <div className="muted">{c.lastError}</div> : null}
                </td>
                <td className="muted">{c.scopes.join(", ")}</td>
                <td>
                  {c.status === "needs_reconnect" ? (
                    <Form method="post">
                      <CsrfField />
                      <input type="hidden" name="intent" value="reconnect" />
                      <input type="hidden" name="connectorId" value={c.connectorId} />
                      <input type="hidden" name="connectionId" value={c.id} />
                      <button type="submit" className="primary">
                        Reconnect {c.connectorName}
                      </button>
                    </Form>
                  ) : null}
                  <Form method="post">
                    <CsrfField />
                    <input type="hidden" name="intent" value="disconnect" />
                    <input type="hidden" name="connectionId" value={c.id} />
                    <button type="submit" className="link-button">
                      Disconnect {c.connectorName}
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Connect an account</h2>
      <ul className="connect-list">
        {connectable.map((c) => (
          <li key={c.id}>
            <Form method="post">
              <CsrfField />
              <input type="hidden" name="intent" value="connect" />
              <input type="hidden" name="connectorId" value={c.id} />
              <strong>{c.name}</strong> <span className="muted">{c.description}</span>
              <div>
                <button type="submit" className="primary">
                  Connect {c.name}
                </button>
              </div>
            </Form>
          </li>
        ))}
      </ul>
    </>
  );
}
