// Outbound webhook endpoints, shared by the vendor area and the staff console:
// the list with a create form, and one endpoint with its settings, secret
// rotation, deliveries (attempts log) and replay.
import { Form, Link } from "@remix-run/react";
import { CsrfField } from "~/components/CsrfField";
import { EmptyState } from "~/components/Shell";
import { formatWhen } from "~/components/connectors/labels";

export const EVENT_TYPES = ["core_fields.created", "core_fields.updated", "vendor_fields.updated"] as const;

export interface EndpointItem {
  id: string;
  name: string;
  description: string | null;
  url: string;
  eventTypes: string[];
  supplierId: string | null;
  status: "active" | "disabled";
  disabledReason: string | null;
  failingSince: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

export interface DeliveryItem {
  id: string;
  eventType: string | null;
  coupleId: string | null;
  seq: number | null;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  createdAt: string;
  recentAttempts: {
    attempt: number;
    startedAt: string;
    durationMs: number | null;
    httpStatus: number | null;
    outcome: string;
    error: string | null;
    responseExcerpt: string | null;
  }[];
}

export type FormResult =
  | { created: { id: string; secret: string } }
  | { rotated: { secret: string; until: string | null } }
  | { saved: true }
  | { replayed: number }
  | { error: string; fields?: Record<string, string[]> }
  | undefined;

function SecretOnce({ secret, label }: { secret: string; label: string }) {
  return (
    <section className="alert ok" role="status" aria-label={label}>
      <p>
        <strong>{label}.</strong> Copy it now: the hub keeps it encrypted and cannot show it again. Verify requests with any
        Standard Webhooks library (for example <code>new Webhook(secret).verify(body, headers)</code>).
      </p>
      <label htmlFor="webhook-secret">Signing secret</label>
      <input id="webhook-secret" type="text" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
    </section>
  );
}

function Problems({ result }: { result: FormResult }) {
  if (!result || !("error" in result)) return null;
  return (
    <div className="alert error" role="alert">
      <p>{result.error}</p>
      {result.fields ? (
        <ul>
          {Object.entries(result.fields).map(([k, v]) => (
            <li key={k}>{`${k}: ${v.join("; ")}`}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function EventTypeChoices({ selected }: { selected: string[] }) {
  return (
    <fieldset>
      <legend>Event types (none ticked: all)</legend>
      {EVENT_TYPES.map((t) => (
        <label key={t} className="checkbox">
          <input type="checkbox" name="eventTypes" value={t} defaultChecked={selected.includes(t)} /> <code>{t}</code>
        </label>
      ))}
    </fieldset>
  );
}

export function EndpointList({
  endpoints,
  result,
  basePath,
  suppliers,
}: {
  endpoints: EndpointItem[];
  result: FormResult;
  basePath: string;
  /** Staff only: register for a supplier. */
  suppliers?: { id: string; name: string }[];
}) {
  return (
    <>
      <Problems result={result} />
      {result && "created" in result ? (
        <>
          <SecretOnce secret={result.created.secret} label="Endpoint created; its signing secret" />
          <p>
            <Link to={`${basePath}/${result.created.id}`}>Open the new endpoint</Link>
          </p>
        </>
      ) : null}
      <h2>Endpoints</h2>
      {endpoints.length === 0 ? (
        <EmptyState title="No webhook endpoints yet">
          <p className="muted">Add one below; the hub then POSTs each matching wedding change to it, signed.</p>
        </EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>Events</th>
              <th>Status</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <tr key={e.id}>
                <td>
                  <Link to={`${basePath}/${e.id}`}>{e.name}</Link>
                </td>
                <td>
                  <code>{e.url}</code>
                </td>
                <td>{e.eventTypes.length ? e.eventTypes.join(", ") : "all"}</td>
                <td>
                  {e.status === "active" ? (
                    <span className="badge active">
                      {e.failingSince ? `Failing since ${formatWhen(e.failingSince)}` : "Active"}
                    </span>
                  ) : (
                    <span className="badge">{`Disabled: ${e.disabledReason ?? ""}`}</span>
                  )}
                </td>
                <td>{formatWhen(e.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Add an endpoint</h2>
      <Form method="post" className="stack">
        <CsrfField />
        <input type="hidden" name="intent" value="create" />
        <label htmlFor="ep-name">Name</label>
        <input id="ep-name" name="name" required maxLength={100} />
        <label htmlFor="ep-url">URL</label>
        <input id="ep-url" name="url" type="url" required placeholder="https://crm.example.com/hooks/wedsync" />
        <label htmlFor="ep-description">Description</label>
        <input id="ep-description" name="description" maxLength={500} />
        {suppliers ? (
          <>
            <label htmlFor="ep-supplier">For supplier (empty: every event, staff endpoint)</label>
            <select id="ep-supplier" name="supplierId" defaultValue="">
              <option value="">All couples (staff)</option>
              {suppliers.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <EventTypeChoices selected={[]} />
        <button type="submit" className="primary">
          Add endpoint
        </button>
      </Form>
    </>
  );
}

export function EndpointDetail({
  endpoint,
  deliveries,
  result,
}: {
  endpoint: EndpointItem;
  deliveries: DeliveryItem[];
  result: FormResult;
}) {
  return (
    <>
      <Problems result={result} />
      {result && "rotated" in result ? (
        <SecretOnce
          secret={result.rotated.secret}
          label={`Secret rotated${result.rotated.until ? `; the old one keeps signing until ${formatWhen(result.rotated.until)}` : ""}; the new secret`}
        />
      ) : null}
      {result && "replayed" in result ? (
        <p className="alert ok" role="status">{`${result.replayed} deliveries queued again, in order.`}</p>
      ) : null}
      {result && "saved" in result ? (
        <p className="alert ok" role="status">
          Saved.
        </p>
      ) : null}
      <p>
        {endpoint.status === "active" ? (
          <span className="badge active">Active</span>
        ) : (
          <span className="badge">{`Disabled: ${endpoint.disabledReason ?? ""}`}</span>
        )}{" "}
        {endpoint.failingSince ? <span className="badge">{`Failing since ${formatWhen(endpoint.failingSince)}`}</span> : null}{" "}
        {endpoint.previousSecretExpiresAt ? (
          <span className="badge">{`Both secrets sign until ${formatWhen(endpoint.previousSecretExpiresAt)}`}</span>
        ) : null}
      </p>
      <Form method="post">
        <CsrfField />
        <input type="hidden" name="endpointId" value={endpoint.id} />
        <input type="hidden" name="intent" value={endpoint.status === "active" ? "disable" : "enable"} />
        <button type="submit" className="secondary">
          {endpoint.status === "active" ? "Disable" : "Enable (waiting deliveries go out in order)"}
        </button>
      </Form>

      <h2>Settings</h2>
      <Form method="post" className="stack">
        <CsrfField />
        <input type="hidden" name="intent" value="update" />
        <input type="hidden" name="endpointId" value={endpoint.id} />
        <label htmlFor="ed-name">Name</label>
        <input id="ed-name" name="name" defaultValue={endpoint.name} required maxLength={100} />
        <label htmlFor="ed-url">URL</label>
        <input id="ed-url" name="url" type="url" defaultValue={endpoint.url} required />
        <label htmlFor="ed-description">Description</label>
        <input id="ed-description" name="description" defaultValue={endpoint.description ?? ""} maxLength={500} />
        <EventTypeChoices selected={endpoint.eventTypes} />
        <button type="submit" className="primary">
          Save
        </button>
      </Form>

      <h2>Signing secret</h2>
      <Form method="post" className="stack">
        <CsrfField />
        <input type="hidden" name="intent" value="rotate" />
        <input type="hidden" name="endpointId" value={endpoint.id} />
        <label htmlFor="overlap">Keep the old secret signing for (hours)</label>
        <input id="overlap" name="overlapHours" type="number" min={0} max={168} defaultValue={24} />
        <button type="submit" className="secondary">
          Rotate secret
        </button>
      </Form>

      <h2>Deliveries</h2>
      <Form method="post" className="inline">
        <CsrfField />
        <input type="hidden" name="intent" value="replay-since" />
        <input type="hidden" name="endpointId" value={endpoint.id} />
        <label htmlFor="since">Replay everything since</label>
        <input id="since" name="since" type="datetime-local" required />
        <button type="submit" className="secondary">
          Replay
        </button>
      </Form>
      {deliveries.length === 0 ? (
        <EmptyState title="No deliveries yet">
          <p className="muted">Changes to the weddings this endpoint may see appear here.</p>
        </EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Created</th>
              <th>Event</th>
              <th>Couple / seq</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id}>
                <td>{formatWhen(d.createdAt)}</td>
                <td>
                  <code>{d.eventType}</code>
                  <br />
                  <small className="muted">{`webhook-id ${d.id}`}</small>
                </td>
                <td>{`${d.coupleId?.slice(0, 8) ?? "–"} #${d.seq ?? "–"}`}</td>
                <td>
                  {d.status}
                  {d.nextAttemptAt ? <small className="muted">{` next ${formatWhen(d.nextAttemptAt)}`}</small> : null}
                  {d.lastError ? <small className="muted">{` (${d.lastError})`}</small> : null}
                </td>
                <td>
                  <details>
                    <summary>{d.attempts}</summary>
                    <ol>
                      {d.recentAttempts.map((a) => (
                        <li key={a.attempt}>
                          {`#${a.attempt} ${formatWhen(a.startedAt)} ${a.outcome} ${a.httpStatus ?? ""} ${a.durationMs ?? "–"} ms ${a.error ?? ""}`}
                          {a.responseExcerpt ? <pre>{a.responseExcerpt}</pre> : null}
                        </li>
                      ))}
                    </ol>
                  </details>
                </td>
                <td>
                  <Form method="post">
                    <CsrfField />
                    <input type="hidden" name="intent" value="replay-one" />
                    <input type="hidden" name="endpointId" value={endpoint.id} />
                    <input type="hidden" name="deliveryId" value={d.id} />
                    <button type="submit" className="secondary">
                      Replay
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
