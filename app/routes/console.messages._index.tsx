// /console/messages: every message the hub sent or holds, newest first, with
// filters; each row opens the message's timeline.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { EmptyState } from "~/components/Shell";
import { listMessages, parseMessageFilters } from "~/messaging/console.server";
import { messageChannel, messageStatus } from "../../db/schema";

export const meta: MetaFunction = () => [{ title: "Messages · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const filters = parseMessageFilters(new URL(request.url).searchParams);
  return { filters, channels: messageChannel, statuses: messageStatus, rows: await listMessages(context.hub.db, filters) };
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 16);

export default function MessagesLog() {
  const { filters, channels, statuses, rows } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Messages</h1>
      <Form method="get" className="filters" aria-label="Filter messages">
        <label>
          Channel{" "}
          <select name="channel" defaultValue={filters.channel ?? ""}>
            <option value="">any</option>
            {channels.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Status{" "}
          <select name="status" defaultValue={filters.status ?? ""}>
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>{" "}
        <label>
          Provider <input name="provider" defaultValue={filters.provider ?? ""} size={10} />
        </label>{" "}
        <label>
          Recipient <input name="recipient" defaultValue={filters.recipient ?? ""} />
        </label>{" "}
        <button type="submit">Filter</button>
      </Form>
      {rows.length === 0 ? (
        <EmptyState title="No messages sent yet">
          <p>Email, SMS and push messages the hub sends are logged here with each one&apos;s delivery timeline.</p>
        </EmptyState>
      ) : (
        <table data-messages>
          <thead>
            <tr>
              <th>Recipient</th>
              <th>Channel</th>
              <th>Template</th>
              <th>Status</th>
              <th>Provider</th>
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
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
