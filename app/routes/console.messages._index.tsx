// /console/messages: every message the hub sent or holds, newest first, with
// filters (channel, status, provider, recipient, couple, supplier); each row
// opens the message's timeline. A filter that is not valid answers 400 and
// says which one, rather than quietly showing everything.
import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { EmptyState } from "~/components/Shell";
import { listMessages, messageFilterChoices, parseMessageFilters, type MessageFilterErrors } from "~/messaging/console.server";
import { messageChannel, messageStatus } from "../../db/schema";

export const meta: MetaFunction = () => [{ title: "Messages · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const db = context.hub.db;
  const parsed = parseMessageFilters(new URL(request.url).searchParams);
  const base = { channels: messageChannel, statuses: messageStatus };
  if (!parsed.ok) {
    const choices = await messageFilterChoices(db, {});
    return data(
      { ...base, ...choices, filters: parsed.raw, error: parsed.message, fieldErrors: parsed.errors, rows: [] },
      { status: 400 },
    );
  }
  const filters = parsed.filters;
  const [choices, rows] = await Promise.all([messageFilterChoices(db, filters), listMessages(db, filters)]);
  return { ...base, ...choices, filters, error: null, fieldErrors: {} as MessageFilterErrors, rows };
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 16);

export default function MessagesLog() {
  const { filters, channels, statuses, couples, suppliers, rows, error, fieldErrors } = useLoaderData<typeof loader>();
  const filtered = Object.values(filters).some(Boolean);
  const invalid = (name: keyof typeof fieldErrors) => (fieldErrors[name] ? true : undefined);
  return (
    <>
      <h1>Messages</h1>
      <Form
        method="get"
        className="filters"
        aria-label="Filter messages"
        style={{
          display: "grid",
          gridTemplateColumns: "repeat(auto-fill, minmax(13rem, 1fr))",
          gap: "0 1rem",
          alignItems: "end",
          marginBottom: "1rem",
        }}
      >
        <label>
          Channel{" "}
          <select name="channel" defaultValue={filters.channel ?? ""} aria-invalid={invalid("channel")}>
            <option value="">any</option>
            {channels.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Status{" "}
          <select name="status" defaultValue={filters.status ?? ""} aria-invalid={invalid("status")}>
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Provider <input name="provider" type="text" defaultValue={filters.provider ?? ""} aria-invalid={invalid("provider")} />
        </label>{" "}
        <label>
          Recipient{" "}
          <input name="recipient" type="text" defaultValue={filters.recipient ?? ""} aria-invalid={invalid("recipient")} />
        </label>{" "}
        <label>
          Couple{" "}
          <select name="couple" defaultValue={fieldErrors.couple ? "" : (filters.couple ?? "")} aria-invalid={invalid("couple")}>
            <option value="">any</option>
            {couples.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
            {filters.couple && !fieldErrors.couple && !couples.some((c) => c.id === filters.couple) ? (
              <option value={filters.couple}>unknown couple</option>
            ) : null}
          </select>
        </label>{" "}
        <label>
          Supplier{" "}
          <select
            name="supplier"
            defaultValue={fieldErrors.supplier ? "" : (filters.supplier ?? "")}
            aria-invalid={invalid("supplier")}
          >
            <option value="">any</option>
            {suppliers.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
            {filters.supplier && !fieldErrors.supplier && !suppliers.some((s) => s.id === filters.supplier) ? (
              <option value={filters.supplier}>unknown supplier</option>
            ) : null}
          </select>
        </label>{" "}
        <p style={{ margin: "0.75rem 0 0" }}>
          <button type="submit">Filter</button>
          {filtered ? (
            <>
              {" "}
              <Link to="/console/messages">Clear filters</Link>
            </>
          ) : null}
        </p>
      </Form>
      {error ? (
        <p className="alert error" role="alert" data-filter-error>
          {error}
        </p>
      ) : rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No messages match these filters">
            <p>Nothing the hub sent or holds matches. Change or clear the filters to see more.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No messages sent yet">
            <p>Email, SMS and push messages the hub sends are logged here with each one&apos;s delivery timeline.</p>
          </EmptyState>
        )
      ) : (
        <table data-messages>
          <thead>
            <tr>
              <th>Recipient</th>
              <th>Channel</th>
              <th>Template</th>
              <th>Status</th>
              <th>Provider</th>
              <th>Couple</th>
              <th>Supplier</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-message-id={r.id}>
                <td>
                  <Link to={`/console/messages/${r.id}`}>{r.recipient}</Link>
                </td>
                <td>{r.channel}</td>
                <td>{r.template}</td>
                <td data-status={r.status}>{r.status}</td>
                <td>{r.provider ?? "–"}</td>
                <td data-couple={r.coupleId ?? ""}>
                  {r.coupleId ? <Link to={`/console/couples/${r.coupleId}`}>{r.coupleName ?? "unknown couple"}</Link> : "–"}
                </td>
                <td data-supplier={r.supplierId ?? ""}>
                  {r.supplierId ? (
                    <Link to={`/console/messages?supplier=${r.supplierId}`}>{r.supplierName ?? "unknown supplier"}</Link>
                  ) : (
                    "–"
                  )}
                </td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
