// Calendar sync per vendor connection: the calendar chosen, last push and pull,
// events the hub keeps there, busy blocks pulled back, the last error, and
// "Sync now" (a sync job queued at once).
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listCalendarSyncStatus, requestCalendarSync } from "~/calendar/status.server";
import { DomainError } from "~/errors";
import { EmptyState } from "~/components/Shell";
import { CsrfField } from "~/components/CsrfField";
import { formatWhen, relativeTo } from "~/components/connectors/labels";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const now = Date.now();
  const rows = await listCalendarSyncStatus(context.hub.db);
  return {
    calendars: rows.map((r) => ({
      ...r,
      lastPushAt: r.lastPushAt?.toISOString() ?? null,
      lastPushAgo: relativeTo(r.lastPushAt, now),
      lastPullAt: r.lastPullAt?.toISOString() ?? null,
      lastPullAgo: relativeTo(r.lastPullAt, now),
      lastErrorAt: r.lastErrorAt?.toISOString() ?? null,
      channelExpiresAt: r.channelExpiresAt?.toISOString() ?? null,
    })),
  };
}

interface SyncReply {
  connectionId: string | null;
  tone: "ok" | "error";
  message: string;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const connectionId = String(form.get("connectionId") ?? "");
  if (form.get("intent") !== "sync")
    return data<SyncReply>({ connectionId, tone: "error", message: "Unknown action." }, { status: 400 });
  try {
    await requestCalendarSync(context.hub.db, connectionId, { type: "user", id: user.id, label: user.email });
    return data<SyncReply>({
      connectionId,
      tone: "ok",
      message: "Sync queued: a worker pushes the events and pulls busy times now. Reload in a few seconds to see the result.",
    });
  } catch (err) {
    if (err instanceof DomainError)
      return data<SyncReply>({ connectionId, tone: "error", message: err.message }, { status: err.status });
    throw err;
  }
}

function pushSummary(result: Record<string, number> | null): string {
  if (!result) return "";
  const parts = (["inserted", "updated", "deleted", "unchanged", "skipped"] as const)
    .filter((k) => (result[k] ?? 0) > 0)
    .map((k) => `${result[k]} ${k}`);
  return parts.length ? parts.join(", ") : "nothing to do";
}

export default function Calendars() {
  const { calendars } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const syncing = navigation.state === "submitting" ? navigation.formData?.get("connectionId") : null;

  return (
    <>
      <h1>Calendar sync</h1>
      {result ? (
        <p
          className={`alert ${result.tone}`}
          role={result.tone === "ok" ? "status" : "alert"}
          data-sync-result={result.connectionId}
        >
          {result.message}
        </p>
      ) : null}
      {calendars.length === 0 ? (
        <EmptyState title="No calendar connections yet">
          <p>
            When a vendor connects Google Calendar, Outlook or an Apple (CalDAV) calendar, the hub puts each wedding in it and
            brings the vendor&apos;s busy times back. Each connection&apos;s sync shows here.
          </p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="connections">
            <thead>
              <tr>
                <th scope="col">Supplier</th>
                <th scope="col">Calendar</th>
                <th scope="col">Events pushed</th>
                <th scope="col">Last push</th>
                <th scope="col">Busy blocks</th>
                <th scope="col">Last pull</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {calendars.map((c) => (
                <tr key={c.connectionId} data-calendar-connection={c.connectionId}>
                  <td>{c.supplierName}</td>
                  <td>
                    {c.connectorName}
                    <div className="muted">
                      {c.accountLabel ?? "unknown account"} · <code>{c.calendarId}</code>
                    </div>
                    <div className="muted">
                      On disconnect: {c.onDisconnect === "keep" ? "keep the events" : "remove the events"}
                      {c.channelExpiresAt ? ` · push channel until ${formatWhen(c.channelExpiresAt)}` : ""}
                    </div>
                  </td>
                  <td data-events-pushed>{c.eventsPushed}</td>
                  <td>
                    {c.lastPushAt ? (
                      <>
                        <time dateTime={c.lastPushAt}>{formatWhen(c.lastPushAt)}</time>
                        <div className="muted">
                          {c.lastPushAgo} · {pushSummary(c.lastPushResult)}
                        </div>
                      </>
                    ) : (
                      <span className="muted">not yet</span>
                    )}
                  </td>
                  <td>{c.availabilityBlocks}</td>
                  <td>
                    {c.lastPullAt ? (
                      <>
                        <time dateTime={c.lastPullAt}>{formatWhen(c.lastPullAt)}</time>
                        <div className="muted">{c.lastPullAgo}</div>
                      </>
                    ) : (
                      <span className="muted">not yet</span>
                    )}
                  </td>
                  <td>
                    {c.lastError ? (
                      <span className="error-text">
                        {c.lastError}
                        {c.lastErrorAt ? <span className="muted"> ({formatWhen(c.lastErrorAt)})</span> : null}
                      </span>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td>
                    {c.status === "active" ? (
                      <Form method="post" preventScrollReset>
                        <CsrfField />
                        <input type="hidden" name="intent" value="sync" />
                        <input type="hidden" name="connectionId" value={c.connectionId} />
                        <button
                          type="submit"
                          className="secondary"
                          disabled={syncing === c.connectionId}
                          aria-label={`Sync now: ${c.supplierName}'s ${c.connectorName}`}
                        >
                          {syncing === c.connectionId ? "Queuing…" : c.syncQueued ? "Sync queued – sync now" : "Sync now"}
                        </button>
                      </Form>
                    ) : (
                      <span className="muted">The vendor must reconnect.</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
