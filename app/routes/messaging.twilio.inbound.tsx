// POST /messaging/twilio/inbound: Twilio's webhook for an SMS a phone sent to the hub's number (STOP / START / HELP), answered with TwiML.
// Twilio authenticates with X-Twilio-Signature (no session, no CSRF), computed over the URL it was
// given, so the check uses the hub's public URL with this request's path and query.
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleTwilioInbound } from "~/messaging/sms/webhooks.server";

/** Twilio's form posts are small; anything larger is not Twilio. */
const MAX_BODY_BYTES = 64_000;

export async function action({ request, context }: ActionFunctionArgs) {
  const raw = await request.text();
  if (raw.length > MAX_BODY_BYTES) return new Response("Payload too large", { status: 413 });
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
  const url = new URL(request.url);
  const answer = await handleTwilioInbound(context.hub, {
    url: `${context.hub.publicUrl()}${url.pathname}${url.search}`,
    params,
    signature: request.headers.get("X-Twilio-Signature"),
  });
  return new Response(answer.body, {
    status: answer.status,
    headers: { "Content-Type": `${answer.contentType}; charset=utf-8`, "Cache-Control": "no-store" },
  });
}

export function loader() {
  return new Response("Method Not Allowed", { status: 405, headers: { Allow: "POST", "Content-Type": "text/plain" } });
}
