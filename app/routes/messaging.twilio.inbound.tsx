// POST /messaging/twilio/inbound: Twilio's webhook for an SMS a phone sent to the hub's number (STOP / START / HELP), answered with TwiML.
// Twilio authenticates with X-Twilio-Signature (no session, no CSRF), computed over the URL it was
// given, so the check uses the hub's public URL with this request's path and query.
import type { ActionFunctionArgs } from "@remix-run/node";
import { answerTwilioPost, handleTwilioInbound } from "~/messaging/sms/webhooks.server";

export async function action({ request, context }: ActionFunctionArgs) {
  return answerTwilioPost(context.hub, request, handleTwilioInbound);
}

export function loader() {
  return new Response("Method Not Allowed", { status: 405, headers: { Allow: "POST", "Content-Type": "text/plain" } });
}
