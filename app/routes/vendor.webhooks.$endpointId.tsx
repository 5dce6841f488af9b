// One of the vendor's webhook endpoints: settings, secret rotation, deliveries and replay.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { handleEndpointForm, loadEndpointDetail } from "~/webhooks/outbound/console.server";
import { EndpointDetail } from "~/components/webhooks-out/OutboundEndpoints";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  return loadEndpointDetail(context.hub, { type: "supplier", supplierId: user.supplierId }, params.endpointId ?? "");
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

export default function VendorWebhookEndpoint() {
  const { endpoint, deliveries } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <p>
        <Link to="/vendor/webhooks">All webhook endpoints</Link>
      </p>
      <h1>{endpoint.name}</h1>
      <p>
        <code>{endpoint.url}</code>
      </p>
      <EndpointDetail endpoint={endpoint} deliveries={deliveries} result={result} />
    </>
  );
}
