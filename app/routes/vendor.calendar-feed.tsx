// The vendor's private iCal feed URLs: create one (the URL is shown once, only
// its hash is kept), see which exist and when they were last fetched, revoke.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { createFeed, feedPath, listFeeds, revokeFeed } from "~/calendar/feed.server";
import { DomainError } from "~/errors";
import { EmptyState } from "~/components/Shell";
import { CsrfField } from "~/components/CsrfField";
import { formatWhen } from "~/components/connectors/labels";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  return { feeds: await listFeeds(context.hub.db, user.supplierId) };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireVendor(request, context);
  const form = await readVerifiedForm(request, context);
  const actor = { type: "user", id: user.id, label: user.email } as const;
  const intent = String(form.get("intent") ?? "");
  try {
    if (intent === "create") {
      const { token, feed } = await createFeed(context.hub.db, user.supplierId, actor);
      // The only time the plaintext leaves the server: in this response, never in a redirect URL.
      return data(
        { created: { url: `${context.hub.publicUrl()}${feedPath(token)}`, hint: feed.tokenHint } },
        { headers: { "Cache-Control": "no-store" } },
      );
    }
    if (intent === "revoke") {
      await revokeFeed(context.hub.db, user.supplierId, String(form.get("feedId") ?? ""), actor);
      return { revoked: true as const };
    }
    return data({ error: "Unknown action." }, { status: 400 });
  } catch (err) {
    if (err instanceof DomainError) return data({ error: err.message }, { status: err.status });
    throw err;
  }
}

function CreatedFeed({ url, hint }: { url: string; hint: string }) {
  return (
    <section className="alert ok" role="status" aria-label="New feed URL">
      <p>
        <strong>{`Your new feed URL (ending …${hint}).`}</strong> Copy it now: the hub keeps only a fingerprint of it and cannot
        show it again.
      </p>
      <label htmlFor="feed-url">Feed URL</label>
      <input id="feed-url" type="text" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
      <p className="muted">Select the URL and copy it (Ctrl+C or ⌘C), then paste it into your calendar app.</p>
    </section>
  );
}

export default function VendorCalendarFeed() {
  const { feeds } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const active = feeds.filter((f) => !f.revokedAt);
  return (
    <>
      <h1>Calendar feed</h1>
      <p className="muted">
        A private URL that shows your weddings in any calendar app that can subscribe to a calendar by URL. Anyone who has the URL
        can read your wedding dates, couples&apos; names and venues, so keep it to your own calendars and revoke it if it leaks.
      </p>
      {result && "error" in result ? (
        <p className="alert error" role="alert">
          {result.error}
        </p>
      ) : null}
      {result && "revoked" in result ? (
        <p className="alert ok" role="status">
          Feed revoked. Calendars subscribed to it stop updating and the URL now answers “not found”.
        </p>
      ) : null}
      {result && "created" in result ? <CreatedFeed url={result.created.url} hint={result.created.hint} /> : null}

      <Form method="post">
        <CsrfField />
        <input type="hidden" name="intent" value="create" />
        <button type="submit" className="primary">
          Create a feed URL
        </button>
      </Form>

      <h2>Your feed URLs</h2>
      {feeds.length === 0 ? (
        <EmptyState title="No feed URLs yet">
          <p className="muted">Create one above; it appears here by its last four characters.</p>
        </EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Feed</th>
              <th>Created</th>
              <th>Last fetched</th>
              <th>Status</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {feeds.map((f) => (
              <tr key={f.id} data-feed={f.tokenHint}>
                <td>
                  <code>{`…${f.tokenHint}`}</code>
                </td>
                <td>
                  <time dateTime={new Date(f.createdAt).toISOString()}>{formatWhen(f.createdAt)}</time>
                </td>
                <td>
                  {f.lastFetchedAt ? (
                    <time dateTime={new Date(f.lastFetchedAt).toISOString()}>{formatWhen(f.lastFetchedAt)}</time>
                  ) : (
                    <span className="muted">not yet</span>
                  )}
                </td>
                <td>
                  {f.revokedAt ? (
                    <span className="badge">Revoked {formatWhen(f.revokedAt)}</span>
                  ) : (
                    <span className="badge active">Active</span>
                  )}
                </td>
                <td>
                  {f.revokedAt ? null : (
                    // A native disclosure as the confirmation step: works without JavaScript.
                    <details>
                      <summary>Revoke…</summary>
                      <Form method="post">
                        <CsrfField />
                        <input type="hidden" name="intent" value="revoke" />
                        <input type="hidden" name="feedId" value={f.id} />
                        <p className="muted">Calendars subscribed with this URL stop updating. This cannot be undone.</p>
                        <button type="submit" className="secondary">
                          {`Revoke feed …${f.tokenHint}`}
                        </button>
                      </Form>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {active.length > 1 ? (
        <p className="muted">You have {active.length} active feed URLs. Revoke the ones no calendar uses any more.</p>
      ) : null}

      <h2>Subscribe in your calendar app</h2>
      <ul>
        <li>
          <strong>Google Calendar</strong> (on a computer): next to “Other calendars” choose <em>+</em> → <em>From URL</em>, paste
          the feed URL, then <em>Add calendar</em>. Google refreshes subscribed calendars every few hours.
        </li>
        <li>
          <strong>Apple Calendar</strong>: on a Mac, <em>File</em> → <em>New Calendar Subscription…</em>; on an iPhone or iPad,{" "}
          <em>Settings</em> → <em>Calendar</em> → <em>Accounts</em> → <em>Add Account</em> → <em>Other</em> →{" "}
          <em>Add Subscribed Calendar</em>. Paste the feed URL.
        </li>
        <li>
          <strong>Outlook</strong>: in Calendar, <em>Add calendar</em> → <em>Subscribe from web</em>, paste the feed URL, name it
          and choose <em>Import</em>.
        </li>
      </ul>
      <p className="muted">
        Only weddings with a date appear. Changes you or the couple make in the hub reach the calendar the next time the app
        refreshes the feed.
      </p>
    </>
  );
}
