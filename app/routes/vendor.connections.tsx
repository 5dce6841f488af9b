import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listSupplierConnections } from "~/connectors/connections.server";
import { CATALOG, findConnector } from "~/connectors/catalog";
import { beginAuthorization } from "~/oauth/flow.server";
import { disconnectConnection } from "~/oauth/tokens.server";
import { DomainError, ValidationError } from "~/errors";
import { canTestCredentials, connectWithCredentials, testCredentials } from "~/connectors/credentials.server";
import { CsrfField } from "~/components/CsrfField";
import { listCalendarSyncStatus, updateCalendarChoices } from "~/calendar/status.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const mine = await listSupplierConnections(context.hub.db, user.supplierId);
  const connectable = CATALOG.filter((c) => c.auth.kind === "oauth2").map((c) => ({
    id: c.id,
    name: c.name,
    description: c.description,
    category: c.category,
  }));
  const withCredentials = CATALOG.flatMap((c) =>
    c.auth.kind === "api_key" || c.auth.kind === "basic" || c.auth.kind === "app_password"
      ? [{ id: c.id, name: c.name, description: c.description, fields: c.auth.fields, testable: canTestCredentials(c.id) }]
      : [],
  );
  const calendars = Object.fromEntries(
    (await listCalendarSyncStatus(context.hub.db, { supplierId: user.supplierId })).map((c) => [
      c.connectionId,
      { onDisconnect: c.onDisconnect, eventsPushed: c.eventsPushed, lastPushAt: c.lastPushAt?.toISOString() ?? null },
    ]),
  );
  return { connections: mine, connectable, withCredentials, calendars };
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
    if (intent === "test-credentials" || intent === "save-credentials") {
      const connectorId = String(form.get("connectorId") ?? "");
      const values = Object.fromEntries(
        [...form.entries()]
          .filter(([k, v]) => k.startsWith("field:") && typeof v === "string")
          .map(([k, v]) => [k.slice(6), String(v)]),
      );
      if (intent === "test-credentials") {
        const result = await testCredentials(connectorId, values, context.hub);
        return data({ tested: { connectorId, ...result } }, { status: result.ok ? 200 : 422 });
      }
      const saved = await connectWithCredentials(context.hub, {
        supplierId: user.supplierId,
        connectorId,
        values,
        actor: { type: "user", id: user.id, label: user.email },
      });
      if (!saved.ok) return data({ tested: { connectorId, ok: false, message: saved.message } }, { status: 422 });
      return redirect(`/vendor/connections?connected=${encodeURIComponent(saved.accountLabel)}`);
    }
    if (intent === "calendar-choices") {
      const onDisconnect = String(form.get("onDisconnect") ?? "");
      if (onDisconnect !== "remove" && onDisconnect !== "keep")
        return data({ error: "Choose whether to remove or keep the wedding events when you disconnect." }, { status: 400 });
      await updateCalendarChoices(
        context.hub.db,
        user.supplierId,
        String(form.get("connectionId") ?? ""),
        { onDisconnect },
        { type: "user", id: user.id, label: user.email },
      );
      return redirect("/vendor/connections?saved=1");
    }
    if (intent === "disconnect") {
      const id = String(form.get("connectionId") ?? "");
      await disconnectConnection(context.hub, user.supplierId, id, { type: "user", id: user.id, label: user.email });
      return redirect("/vendor/connections?disconnected=1");
    }
    return data({ error: "Unknown action." }, { status: 400 });
  } catch (err) {
    if (err instanceof ValidationError) return data({ error: err.message, fields: err.fieldErrors }, { status: err.status });
    if (err instanceof DomainError) return data({ error: err.message }, { status: err.status });
    throw err;
  }
}

const STATUS_TEXT = { active: "Connected", needs_reconnect: "Needs reconnect", disconnected: "Disconnected" } as const;

export default function VendorConnections() {
  const { connections, connectable, withCredentials, calendars } = useLoaderData<typeof loader>();
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
      {params.get("saved") ? (
        <p className="alert ok" role="status">
          Saved.
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
                <td className="muted">
                  {c.scopes.join(", ")}
                  {calendars[c.id] ? (
                    <div data-calendar-sync>
                      {calendars[c.id]!.eventsPushed} wedding event{calendars[c.id]!.eventsPushed === 1 ? "" : "s"} in this
                      calendar
                      <Form method="post" className="inline-form">
                        <CsrfField />
                        <input type="hidden" name="intent" value="calendar-choices" />
                        <input type="hidden" name="connectionId" value={c.id} />
                        <label>
                          When I disconnect{" "}
                          <select name="onDisconnect" defaultValue={calendars[c.id]!.onDisconnect}>
                            <option value="remove">remove the hub&apos;s events</option>
                            <option value="keep">keep the events in my calendar</option>
                          </select>
                        </label>{" "}
                        <button type="submit" className="secondary">
                          Save
                        </button>
                      </Form>
                    </div>
                  ) : null}
                </td>
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

      <h2>Connect with a key or password</h2>
      <p className="muted">The hub tests the connection first and stores nothing unless the test succeeds.</p>
      <ul className="connect-list">
        {withCredentials.map((c) => {
          const tested = result && "tested" in result && result.tested.connectorId === c.id ? result.tested : null;
          const fieldErrors = result && "fields" in result ? (result.fields as Record<string, string[]>) : {};
          return (
            <li key={c.id}>
              <strong>{c.name}</strong> <span className="muted">{c.description}</span>
              {c.testable ? (
                <Form method="post" aria-label={`Connect ${c.name}`}>
                  <CsrfField />
                  <input type="hidden" name="connectorId" value={c.id} />
                  {c.fields.map((f) => (
                    <div key={f.name}>
                      <label htmlFor={`${c.id}-${f.name}`}>{f.label}</label>
                      <input
                        id={`${c.id}-${f.name}`}
                        name={`field:${f.name}`}
                        type={f.secret ? "password" : "text"}
                        autoComplete="off"
                        aria-invalid={fieldErrors[f.name] ? true : undefined}
                      />
                      {f.help ? <div className="muted">{f.help}</div> : null}
                      {fieldErrors[f.name] ? <div className="alert error">{fieldErrors[f.name]!.join("; ")}</div> : null}
                    </div>
                  ))}
                  {tested ? (
                    <p className={`alert ${tested.ok ? "ok" : "error"}`} role="status">
                      {tested.message}
                    </p>
                  ) : null}
                  <button type="submit" name="intent" value="test-credentials" className="primary">
                    Test connection
                  </button>{" "}
                  <button type="submit" name="intent" value="save-credentials" className="primary">
                    Test and save
                  </button>
                </Form>
              ) : (
                <p className="muted">Available when the {c.name} integration ships; its connection test is not built yet.</p>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
