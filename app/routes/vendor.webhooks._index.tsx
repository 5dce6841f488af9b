// A vendor's outbound webhook endpoints: the hub POSTs changes to its weddings
// there, signed (Standard Webhooks); the secret is shown once.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listEndpoints } from "~/webhooks/outbound/endpoints.server";
import { handleEndpointForm } from "~/webhooks/outbound/console.server";
import { EndpointList } from "~/components/webhooks-out/OutboundEndpoints";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  return { endpoints: await listEndpoints(context.hub.db, { type: "supplier", supplierId: user.supplierId }) };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireVendor(request, context);
  const form = await readVerifiedForm(request, context);
  return handleEndpointForm(
    context.hub,
    { type: "supplier", supplierId: user.supplierId },
    { type: "user", id: user.id, label: user.email },
    form,
    user.id,
  );
}

export default function VendorWebhooks() {
  const { endpoints } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>Webhooks</h1>
      <p className="muted">
        Your systems can receive every change to your weddings as it happens. Each request is signed with the endpoint&apos;s
        secret (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>); a
        couple&apos;s changes arrive in order, and failed deliveries are retried for about a day.
      </p>
      <EndpointList endpoints={endpoints} result={result} basePath="/vendor/webhooks" />
    </>
  );
}
