// POST /calendar/notifications/microsoft: Microsoft Graph's calls for Outlook
// calendar subscriptions (resource route, no UI). Graph first validates the URL
// (?validationToken=… must be echoed as text/plain within 10 s), then posts
// change notifications as JSON. Graph authenticates itself with the
// subscription's clientState, not a session or CSRF token, so neither applies
// here; handleGraphNotification does the checking.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { handleGraphNotification } from "~/calendar/graph-subscriptions.server";

/** Graph's batches are small; anything this large is not Graph. */
const MAX_BODY_BYTES = 1_000_000;

async function respond(context: ActionFunctionArgs["context"], validationToken: string | null, body: unknown) {
  const answer = await handleGraphNotification(context.hub, { validationToken, body });
  return new Response(answer.body, {
    status: answer.status,
    headers: {
      "Content-Type": `${answer.contentType}; charset=utf-8`,
      "Cache-Control": "no-store",
      // The echoed token is text, never markup.
      "X-Content-Type-Options": "nosniff",
    },
  });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const validationToken = new URL(request.url).searchParams.get("validationToken");
  if (validationToken) return respond(context, validationToken, undefined);
  const text = await request.text();
  let body: unknown;
  try {
    body = text.length <= MAX_BODY_BYTES ? JSON.parse(text) : undefined;
  } catch {
    body = undefined; // answered 400 by the handler
  }
  return respond(context, null, body);
}

// Graph only POSTs; a GET with a validationToken is answered the same way, anything else is not allowed.
export async function loader({ request, context }: LoaderFunctionArgs) {
  const validationToken = new URL(request.url).searchParams.get("validationToken");
  if (validationToken) return respond(context, validationToken, undefined);
  return new Response("Method Not Allowed", { status: 405, headers: { Allow: "POST", "Content-Type": "text/plain" } });
}
