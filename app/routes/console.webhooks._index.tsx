// Inbound webhook endpoints: one per source, with deliveries by status and
// refusals counted, so a sender that is being refused is visible at a glance.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { listInboundEndpoints } from "~/webhooks/inbound/endpoints.server";
import { SCHEME_LABELS } from "~/webhooks/inbound/scheme-config";
import { EmptyState } from "~/components/Shell";
import { formatWhen } from "~/components/connectors/labels";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const endpoints = await listInboundEndpoints(context.hub.db);
  return {
    endpoints: endpoints.map((e) => ({ ...e, lastDeliveryAt: e.lastDeliveryAt?.toISOString() ?? null })),
  };
}

export default function InboundWebhooks() {
  const { endpoints } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Webhooks</h1>
      <h2>Inbound endpoints</h2>
      <p className="muted">
        Vendors&apos; systems and providers post changes to <code>/webhooks/in/&lt;endpoint id&gt;</code>. Each delivery is
        verified, stored and acknowledged, then mapped and applied by a worker.
      </p>
      <p>
        <Link to="/console/webhooks/in/new" className="button primary">
          New inbound endpoint
        </Link>
      </p>
      {endpoints.length === 0 ? (
        <EmptyState title="No webhook endpoints yet">
          <p>Create one per source: choose how it is verified, the mapping that reads its payloads and what it changes.</p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Verification</th>
                <th scope="col">Applies as</th>
                <th scope="col">Deliveries</th>
                <th scope="col">Dead letters</th>
                <th scope="col">Refusals</th>
                <th scope="col">Last delivery</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <tr key={e.id} data-inbound-endpoint={e.id}>
                  <td>
                    <Link to={`/console/webhooks/in/${e.id}`}>{e.name}</Link>
                    {e.status === "disabled" ? <span className="muted"> (disabled)</span> : null}
                    {e.supplierName ? <div className="muted">{e.supplierName}</div> : null}
                  </td>
                  <td>{SCHEME_LABELS[e.scheme]}</td>
                  <td>
                    {e.applyAs}
                    <div className="muted">{e.mappingSlug ?? "no mapping"}</div>
                  </td>
                  <td>
                    {Object.values(e.counts).reduce((a, b) => a + b, 0)}
                    <div className="muted">{e.counts.processed ?? 0} processed</div>
                  </td>
                  <td data-dead-letters>{e.counts.dead ?? 0}</td>
                  <td data-refusals>{e.refusals}</td>
                  <td>{e.lastDeliveryAt ? formatWhen(e.lastDeliveryAt) : <span className="muted">none yet</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
