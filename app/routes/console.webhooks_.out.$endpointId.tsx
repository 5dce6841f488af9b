// Staff: one outbound endpoint with its attempts log, rotation, enable/disable and replay.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { handleEndpointForm, loadEndpointDetail } from "~/webhooks/outbound/console.server";
import { EndpointDetail } from "~/components/webhooks-out/OutboundEndpoints";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return loadEndpointDetail(context.hub, { type: "staff" }, params.endpointId ?? "");
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  return handleEndpointForm(context.hub, { type: "staff" }, { type: "user", id: user.id, label: user.email }, form, user.id);
}

export default function ConsoleWebhookOutEndpoint() {
  const { endpoint, deliveries } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <p>
        <Link to="/console/webhooks/out">All outbound endpoints</Link>
      </p>
      <h1>{endpoint.name}</h1>
      <p>
        <code>{endpoint.url}</code>{" "}
        {endpoint.supplierId ? <span className="muted">{`supplier ${endpoint.supplierId}`}</span> : null}
      </p>
      <EndpointDetail endpoint={endpoint} deliveries={deliveries} result={result} />
    </>
  );
}
