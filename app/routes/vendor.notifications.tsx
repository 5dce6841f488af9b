// The vendor's notification settings: "Notify me in this browser" (a service
// worker + PushSubscription posted here, keys stored encrypted), the browsers
// already subscribed, and preferences (channels, muted kinds, quiet hours in
// their time zone; wedding-day critical messages still come through).
import { useState } from "react";
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useFetcher, useLoaderData, useRouteLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { loadVapidKeys } from "~/messaging/push/vapid.server";
import {
  listPushSubscriptions,
  pushSubscriptionInputSchema,
  removePushSubscription,
  savePushSubscription,
} from "~/messaging/push/subscriptions.server";
import { getPreferences, preferencesInputSchema, savePreferences } from "~/messaging/preferences.server";
import { templateIds } from "~/messaging/templates/catalog";
import { CsrfField } from "~/components/CsrfField";
import type { loader as rootLoader } from "~/root";

const CHANNELS = [
  { id: "email", label: "Email" },
  { id: "sms", label: "Text message (SMS)" },
  { id: "push", label: "Browser notifications" },
] as const;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const prefs = await getPreferences(context.hub.db, user.email.toLowerCase());
  const subs = await listPushSubscriptions(context.hub.db, user.id);
  return {
    vapidPublicKey: loadVapidKeys(context.hub.config).publicKey,
    browsers: subs.map((s) => ({
      id: s.id,
      endpoint: s.endpoint,
      host: s.endpointHost,
      userAgent: s.userAgent,
      createdAt: s.createdAt,
    })),
    prefs: prefs ?? {
      channels: ["email", "sms", "push"],
      mutedKinds: [],
      quietStart: null,
      quietEnd: null,
      timeZone: "Europe/London",
    },
    kinds: templateIds,
  };
}

type ActionResult = { ok: string } | { error: string; fields?: Record<string, string> };

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireVendor(request, context);
  const form = await readVerifiedForm(request, context);
  const intent = String(form.get("intent") ?? "");
  if (intent === "subscribe") {
    const parsed = pushSubscriptionInputSchema.safeParse({
      endpoint: form.get("endpoint"),
      keys: { p256dh: form.get("p256dh"), auth: form.get("auth") },
    });
    if (!parsed.success)
      return data<ActionResult>(
        { error: `This browser's subscription was not accepted: ${parsed.error.issues[0]?.message}` },
        { status: 400 },
      );
    await savePushSubscription(context.hub.db, context.hub.vault, user.id, parsed.data, request.headers.get("user-agent"));
    return data<ActionResult>({ ok: "This browser will now show WedSync notifications." });
  }
  if (intent === "unsubscribe") {
    const removed = await removePushSubscription(context.hub.db, user.id, String(form.get("endpoint") ?? ""));
    return data<ActionResult>(
      removed ? { ok: "Notifications turned off for that browser." } : { error: "That browser was not subscribed." },
      { status: removed ? 200 : 404 },
    );
  }
  if (intent === "preferences") {
    const text = (name: string) => {
      const v = String(form.get(name) ?? "").trim();
      return v === "" ? null : v;
    };
    const parsed = preferencesInputSchema.safeParse({
      channels: form.getAll("channels").map(String),
      mutedKinds: form.getAll("mutedKinds").map(String),
      quietStart: text("quietStart"),
      quietEnd: text("quietEnd"),
      timeZone: text("timeZone") ?? "",
    });
    if (!parsed.success) {
      const fields: Record<string, string> = {};
      for (const i of parsed.error.issues) fields[String(i.path[0] ?? "form")] ??= i.message;
      return data<ActionResult>({ error: "Please correct the highlighted fields.", fields }, { status: 422 });
    }
    // The same settings for each of the vendor's addresses: email, and their user id for browser notifications.
    await savePreferences(context.hub.db, user.id, [user.email.toLowerCase(), user.id], parsed.data);
    return data<ActionResult>({ ok: "Preferences saved." });
  }
  return data<ActionResult>({ error: "Unknown action." }, { status: 400 });
}

function PushControl({ vapidPublicKey }: { vapidPublicKey: string }) {
  const fetcher = useFetcher<typeof action>();
  const root = useRouteLoaderData<typeof rootLoader>("root");
  const [state, setState] = useState<"unsupported" | "idle" | "working" | "denied">("idle");
  async function enable() {
    // Checked on click, not in an effect: the server render has no navigator.
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) return setState("unsupported");
    if (Notification.permission === "denied") return setState("denied");
    setState("working");
    try {
      const registration = await navigator.serviceWorker.register("/sw.js");
      const permission = await Notification.requestPermission();
      if (permission !== "granted") return setState("denied");
      const key = Uint8Array.from(atob(vapidPublicKey.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
      const sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      const json = sub.toJSON();
      fetcher.submit(
        {
          intent: "subscribe",
          endpoint: json.endpoint ?? "",
          p256dh: json.keys?.p256dh ?? "",
          auth: json.keys?.auth ?? "",
          _csrf: root?.csrf ?? "",
        },
        { method: "post" },
      );
      setState("idle");
    } catch {
      setState("idle");
    }
  }
  async function disable() {
    const registration = await navigator.serviceWorker.getRegistration("/sw.js");
    const sub = await registration?.pushManager.getSubscription();
    if (!sub) return;
    const endpoint = sub.endpoint;
    await sub.unsubscribe();
    fetcher.submit({ intent: "unsubscribe", endpoint, _csrf: root?.csrf ?? "" }, { method: "post" });
  }
  if (state === "unsupported") return <p className="muted">This browser cannot show notifications from websites.</p>;
  return (
    <div>
      {state === "denied" ? (
        <p className="alert error">Notifications are blocked for this site in the browser&apos;s settings.</p>
      ) : null}
      <button type="button" className="primary" onClick={() => void enable()} disabled={state === "working"}>
        Notify me in this browser
      </button>{" "}
      <button type="button" className="secondary" onClick={() => void disable()}>
        Stop notifications in this browser
      </button>
      {fetcher.data && "ok" in fetcher.data ? (
        <p className="alert ok" role="status">
          {fetcher.data.ok}
        </p>
      ) : null}
      {fetcher.data && "error" in fetcher.data ? (
        <p className="alert error" role="alert">
          {fetcher.data.error}
        </p>
      ) : null}
    </div>
  );
}

export default function VendorNotifications() {
  const { vapidPublicKey, browsers, prefs, kinds } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const fields = result && "fields" in result ? (result.fields ?? {}) : {};
  const fieldError = (name: string) =>
    fields[name] ? (
      <span className="field-error" id={`${name}-error`} role="alert">
        {fields[name]}
      </span>
    ) : null;
  return (
    <>
      <h1>Notifications</h1>
      <h2>Browser notifications</h2>
      <PushControl vapidPublicKey={vapidPublicKey} />
      {browsers.length ? (
        <ul>
          {browsers.map((b) => (
            <li key={b.id}>
              {b.userAgent ?? "A browser"} <span className="muted">via {b.host}</span>
              <Form method="post" style={{ display: "inline" }}>
                <CsrfField />
                <input type="hidden" name="intent" value="unsubscribe" />
                <input type="hidden" name="endpoint" value={b.endpoint} />{" "}
                <button type="submit" className="secondary">
                  Remove
                </button>
              </Form>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No browser is subscribed yet.</p>
      )}

      <h2>Preferences</h2>
      {result && "ok" in result ? (
        <p className="alert ok" role="status">
          {result.ok}
        </p>
      ) : null}
      {result && "error" in result ? (
        <p className="alert error" role="alert">
          {result.error}
        </p>
      ) : null}
      <Form method="post">
        <CsrfField />
        <input type="hidden" name="intent" value="preferences" />
        <fieldset>
          <legend>Send me</legend>
          {CHANNELS.map((c) => (
            <label key={c.id}>
              <input type="checkbox" name="channels" value={c.id} defaultChecked={prefs.channels.includes(c.id)} /> {c.label}
            </label>
          ))}
          {fieldError("channels")}
        </fieldset>
        <fieldset>
          <legend>Mute these kinds of message</legend>
          {kinds.map((k) => (
            <label key={k}>
              <input type="checkbox" name="mutedKinds" value={k} defaultChecked={prefs.mutedKinds.includes(k)} /> {k}
            </label>
          ))}
          {fieldError("mutedKinds")}
        </fieldset>
        <fieldset>
          <legend>Quiet hours</legend>
          <p className="muted">
            Nothing but wedding-day critical messages arrives between these times; the rest waits until they end.
          </p>
          <label htmlFor="quietStart">From</label>
          <input
            id="quietStart"
            name="quietStart"
            type="time"
            defaultValue={prefs.quietStart ?? ""}
            aria-describedby="quietStart-error"
          />
          {fieldError("quietStart")}
          <label htmlFor="quietEnd">Until</label>
          <input
            id="quietEnd"
            name="quietEnd"
            type="time"
            defaultValue={prefs.quietEnd ?? ""}
            aria-describedby="quietEnd-error"
          />
          {fieldError("quietEnd")}
          <label htmlFor="timeZone">Time zone</label>
          <input id="timeZone" name="timeZone" type="text" defaultValue={prefs.timeZone} aria-describedby="timeZone-error" />
          {fieldError("timeZone")}
        </fieldset>
        <button type="submit" className="primary">
          Save preferences
        </button>
      </Form>
    </>
  );
}
