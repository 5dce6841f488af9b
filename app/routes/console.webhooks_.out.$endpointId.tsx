// Staff: one outbound endpoint with its attempts log, rotation, enable/disable and replay.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { getEndpoint } from "~/webhooks/outbound/endpoints.server";
import { listDeliveries } from "~/webhooks/outbound/deliveries.server";
import { handleEndpointForm } from "~/webhooks/outbound/console.server";
import { EndpointDetail } from "~/components/webhooks-out/OutboundEndpoints";
import { NotFoundError } from "~/errors";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const owner = { type: "staff" } as const;
  try {
    const endpoint = await getEndpoint(context.hub.db, owner, params.endpointId ?? "");
    return { endpoint, deliveries: await listDeliveries(context.hub.db, owner, endpoint.id, { limit: 100 }) };
  } catch (err) {
    if (err instanceof NotFoundError) throw new Response("Not found", { status: 404 });
    throw err;
  }
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
