// /console/messages/:messageId: one message and its timeline — every attempt
// (provider, outcome, duration, error) and every status or provider event.
import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { getMessageTimeline } from "~/messaging/console.server";

export const meta: MetaFunction = () => [{ title: "Message · WedSync Integration Hub" }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const timeline = await getMessageTimeline(context.hub.db, params.messageId ?? "");
  if (!timeline) throw data({ message: "No such message" }, { status: 404 });
  return timeline;
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 23);

/** A short, readable summary of an event's detail (reason first). */
function describe(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

export default function MessageTimeline() {
  const { message, attempts, events } = useLoaderData<typeof loader>();
  return (
    <>
      <p>
        <Link to="/console/messages">← All messages</Link>
      </p>
      <h1>
        {message.template} → {message.recipient}
      </h1>
      <dl className="fields" aria-label="Message">
        <dt>Status</dt>
        <dd data-message-status={message.status}>
          <strong>{message.status}</strong>
          {message.statusReason ? ` · ${message.statusReason}` : ""}
        </dd>
        <dt>Channel</dt>
        <dd>{message.channel}</dd>
        <dt>Provider</dt>
        <dd data-message-provider>{message.provider ?? "–"}</dd>
        <dt>Provider message id</dt>
        <dd>{message.providerMessageId ?? "–"}</dd>
        <dt>Priority</dt>
        <dd>
          {message.priority}
          {message.critical ? " · wedding-day critical" : ""}
        </dd>
        <dt>Created</dt>
        <dd>{when(message.createdAt)}</dd>
        <dt>Sent</dt>
        <dd>{message.sentAt ? when(message.sentAt) : "–"}</dd>
      </dl>

      <h2>Attempts</h2>
      {attempts.length === 0 ? (
        <p>No provider has been tried yet.</p>
      ) : (
        <table aria-label="Attempts" data-attempts>
          <thead>
            <tr>
              <th>#</th>
              <th>Provider</th>
              <th>Outcome</th>
              <th>Duration</th>
              <th>Error</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={a.id} data-attempt={a.attemptNo} data-attempt-provider={a.provider} data-attempt-status={a.status}>
                <td>{a.attemptNo}</td>
                <td>{a.provider}</td>
                <td>{a.status}</td>
                <td>{a.durationMs === null ? "–" : `${a.durationMs} ms`}</td>
                <td>
                  {a.error ?? ""}
                  {a.httpStatus ? ` (HTTP ${a.httpStatus})` : ""}
                </td>
                <td>{when(a.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Timeline</h2>
      <ol className="timeline" aria-label="Timeline" data-timeline>
        {events.map((e) => (
          <li key={e.id} data-event-type={e.type}>
            <time dateTime={e.occurredAt}>{when(e.occurredAt)}</time> <strong>{e.type}</strong>
            {e.status ? ` → ${e.status}` : ""}
            {e.provider ? ` · ${e.provider}` : ""}
            {e.source === "webhook" ? " · from the provider" : ""}
            {Object.keys(e.detail).length ? <div className="muted">{describe(e.detail)}</div> : null}
          </li>
        ))}
      </ol>
    </>
  );
}
