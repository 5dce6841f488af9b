// POST /messaging/twilio/status: Twilio's webhook for a message's delivery status (sent, delivered, undelivered), onto its timeline.
// Twilio authenticates with X-Twilio-Signature (no session, no CSRF), computed over the URL it was
// given, so the check uses the hub's public URL with this request's path and query.
import type { ActionFunctionArgs } from "@remix-run/node";
import { answerTwilioPost, handleTwilioStatus } from "~/messaging/sms/webhooks.server";

export async function action({ request, context }: ActionFunctionArgs) {
  return answerTwilioPost(context.hub, request, handleTwilioStatus);
}

export function loader() {
  return new Response("Method Not Allowed", { status: 405, headers: { Allow: "POST", "Content-Type": "text/plain" } });
}
