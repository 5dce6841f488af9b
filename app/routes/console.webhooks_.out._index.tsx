// Staff: every outbound webhook endpoint (vendors' and staff's own), and new ones.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { asc } from "drizzle-orm";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listEndpoints } from "~/webhooks/outbound/endpoints.server";
import { handleEndpointForm } from "~/webhooks/outbound/console.server";
import { EndpointList } from "~/components/webhooks-out/OutboundEndpoints";
import { suppliers } from "../../db/schema";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const db = context.hub.db;
  return {
    endpoints: await listEndpoints(db, { type: "staff" }),
    suppliers: await db
      .select({ id: suppliers.id, name: suppliers.name })
      .from(suppliers)
      .orderBy(asc(suppliers.name))
      .limit(500),
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  return handleEndpointForm(context.hub, { type: "staff" }, { type: "user", id: user.id, label: user.email }, form, user.id);
}

export default function ConsoleWebhooksOut() {
  const { endpoints, suppliers: list } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>Webhooks out</h1>
      <p className="muted">
        Each matching change is delivered to every endpoint that may see it, signed (Standard Webhooks), in order per couple,
        retried on a Svix-like schedule; endpoints failing for days or answering 410 are disabled and their owner told.
      </p>
      <EndpointList endpoints={endpoints} result={result} basePath="/console/webhooks/out" suppliers={list} />
    </>
  );
}
