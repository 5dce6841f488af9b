// POST /calendar/notifications/google: Google Calendar's push notifications
// for watch channels (resource route, no UI). Google authenticates itself with
// the channel token we gave it (X-Goog-Channel-Token), not a session or CSRF
// token; handleGoogleNotification checks it. The body is empty by design.
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleGoogleNotification } from "~/calendar/google-watch.server";

export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return new Response("Method not allowed", { status: 405, headers: { Allow: "POST" } });
  const h = request.headers;
  const verdict = await handleGoogleNotification(context.hub, {
    channelId: h.get("x-goog-channel-id"),
    token: h.get("x-goog-channel-token"),
    resourceId: h.get("x-goog-resource-id"),
    resourceState: h.get("x-goog-resource-state"),
  });
  if (verdict.outcome === "rejected")
    context.hub.log.warn({ status: verdict.status, reason: verdict.reason }, "google channel notification refused");
  return new Response(verdict.outcome === "rejected" ? verdict.reason : "", {
    status: verdict.status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}

export function loader() {
  return new Response("Google posts channel notifications here.", { status: 405, headers: { Allow: "POST" } });
}
