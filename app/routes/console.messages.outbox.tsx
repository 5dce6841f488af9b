// /console/messages/outbox: in the sandbox, what the email, SMS and push
// simulators received, newest first — each email rendered (HTML in a
// sandboxed iframe, plus its text part), SMS bodies and push payloads, linked
// to the hub's message where it can be matched. Without simulators the page
// says so.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { EmptyState } from "~/components/Shell";
import { readSandboxOutbox } from "~/messaging/sandbox-outbox.server";

export const meta: MetaFunction = () => [{ title: "Sandbox outbox · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { outbox: await readSandboxOutbox(context.hub) };
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 19);
const kb = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 102.4) / 10} KB`);

function MessageLink({ id }: { id: string | null }) {
  return id ? (
    <Link to={`/console/messages/${id}`} data-outbox-message={id}>
      Open the message&apos;s timeline
    </Link>
  ) : (
    <span className="muted">Not matched to a hub message</span>
  );
}

export default function SandboxOutbox() {
  const { outbox } = useLoaderData<typeof loader>();
  if (!outbox.running)
    return (
      <>
        <h1>Sandbox outbox</h1>
        <EmptyState title="No simulators are running">
          <p>
            This hub runs in {outbox.mode} mode without the provider simulators, so messages go to the real providers and there is
            no sandbox outbox to show. Each message&apos;s timeline in the log says which provider took it.
          </p>
        </EmptyState>
      </>
    );
  const { sources, entries, limit } = outbox;
  return (
    <>
      <h1>Sandbox outbox</h1>
      <p className="muted">
        What the sandbox&apos;s provider simulators received, newest first (the latest {limit}). Nothing here left the machine.
      </p>
      <ul aria-label="Simulators" className="muted" data-outbox-sources>
        {sources.map((s) => (
          <li key={s.simulator} data-source={s.simulator} data-source-ok={s.ok}>
            <strong>{s.label}</strong> ({s.channel}):{" "}
            {s.ok ? `${s.total} received` : <span className="field-error">the simulator {s.error}</span>}
            {s.url ? <span> · {s.url}</span> : null}
          </li>
        ))}
      </ul>
      {entries.length === 0 ? (
        <EmptyState title="Nothing received yet">
          <p>
            Emails, SMS and push messages the hub sends in the sandbox show up here.{" "}
            <Link to="/console/messages/send">Send a test message</Link> to see one.
          </p>
        </EmptyState>
      ) : (
        entries.map((e) => (
          <section
            key={e.key}
            className="card"
            aria-label={
              e.channel === "email"
                ? `Email: ${e.subject}`
                : e.channel === "sms"
                  ? `SMS to ${e.to}`
                  : `Push: ${e.title ?? "notification"}`
            }
            data-outbox-entry={e.channel}
            data-simulator={e.simulator}
            style={{ marginBottom: "1rem" }}
          >
            <p style={{ margin: "0 0 0.5rem" }}>
              <strong>{e.channel === "email" ? "Email" : e.channel === "sms" ? "SMS" : "Push"}</strong> via {e.source} ·{" "}
              <time dateTime={e.receivedAt}>{when(e.receivedAt)}</time> · <MessageLink id={e.messageId} />
            </p>
            {e.channel === "email" ? (
              <>
                <dl className="fields">
                  <dt>From</dt>
                  <dd>{e.from}</dd>
                  <dt>To</dt>
                  <dd data-outbox-to>{e.to.join(", ")}</dd>
                  <dt>Subject</dt>
                  <dd data-outbox-subject>{e.subject}</dd>
                  {e.attachments.length ? (
                    <>
                      <dt>Attachments</dt>
                      <dd>{e.attachments.map((a) => `${a.filename} (${kb(a.size)})`).join(", ")}</dd>
                    </>
                  ) : null}
                </dl>
                {e.html ? (
                  <iframe
                    title={`Email to ${e.to.join(", ")}: ${e.subject}`}
                    srcDoc={e.html}
                    sandbox=""
                    loading="lazy"
                    style={{
                      width: "100%",
                      height: "420px",
                      border: "1px solid #e5e7eb",
                      borderRadius: "6px",
                      marginTop: "0.75rem",
                    }}
                  />
                ) : (
                  <p className="muted">No HTML part.</p>
                )}
                <details>
                  <summary>Plain text</summary>
                  <pre data-outbox-text style={{ whiteSpace: "pre-wrap" }}>
                    {e.text ?? "No text part."}
                  </pre>
                </details>
              </>
            ) : e.channel === "sms" ? (
              <dl className="fields">
                <dt>From</dt>
                <dd>{e.from}</dd>
                <dt>To</dt>
                <dd data-outbox-to>{e.to}</dd>
                <dt>Body</dt>
                <dd data-outbox-body style={{ whiteSpace: "pre-wrap" }}>
                  {e.body}
                </dd>
                <dt>Segments</dt>
                <dd>
                  {e.segments} ({e.encoding})
                </dd>
                <dt>Status</dt>
                <dd>{e.status}</dd>
              </dl>
            ) : (
              <dl className="fields">
                <dt>Title</dt>
                <dd data-outbox-subject>{e.title ?? "–"}</dd>
                <dt>Body</dt>
                <dd data-outbox-body>{e.body ?? "–"}</dd>
                {e.url ? (
                  <>
                    <dt>Opens</dt>
                    <dd>{e.url}</dd>
                  </>
                ) : null}
                <dt>Urgency · TTL</dt>
                <dd>
                  {e.urgency} · {e.ttl} s{e.topic ? ` · topic ${e.topic}` : ""}
                </dd>
                <dt>Payload</dt>
                <dd>
                  <code>{e.payload}</code>
                </dd>
              </dl>
            )}
          </section>
        ))
      )}
    </>
  );
}
