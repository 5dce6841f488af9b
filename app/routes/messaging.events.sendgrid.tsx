// POST /messaging/events/sendgrid: SendGrid's signed Event Webhook (ECDSA).
// No session or CSRF: the provider's signature is the authentication (app/messaging/events).
import type { ActionFunctionArgs } from "@remix-run/node";
import { deliveryEventsAction, methodNotAllowed } from "~/messaging/events/handle.server";

export function action({ request, context }: ActionFunctionArgs) {
  return deliveryEventsAction(context.hub, "sendgrid", request);
}

export function loader() {
  return methodNotAllowed();
}
