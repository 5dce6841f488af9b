// Create an inbound endpoint. The secret (generated or entered) is shown once,
// in this response only; the hub keeps it encrypted.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { DomainError, ValidationError } from "~/errors";
import { createInboundEndpoint, INBOUND_PATH } from "~/webhooks/inbound/endpoints.server";
import { endpointFormChoices, endpointInputFromForm } from "~/webhooks/inbound/console.server";
import { InboundEndpointForm } from "~/components/webhooks/InboundEndpointForm";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context, ["admin", "integration"]);
  return { choices: await endpointFormChoices(context.hub.db) };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context, ["admin", "integration"]);
  const form = await readVerifiedForm(request, context);
  try {
    const secret = form.get("secret");
    const { endpoint, secret: shown } = await createInboundEndpoint(
      context.hub.db,
      context.hub.vault,
      endpointInputFromForm(form),
      {
        secret: typeof secret === "string" ? secret : null,
        actor: { type: "user", id: user.id, label: user.email },
        createdBy: user.id,
      },
    );
    return data(
      {
        created: {
          id: endpoint.id,
          name: endpoint.name,
          url: `${context.hub.publicUrl()}${INBOUND_PATH(endpoint.id)}`,
          secret: shown,
        },
      },
      { headers: { "Cache-Control": "no-store" } },
    );
  } catch (err) {
    if (err instanceof ValidationError) return data({ error: err.message, fields: err.fieldErrors }, { status: 422 });
    if (err instanceof DomainError) return data({ error: err.message, fields: {} }, { status: err.status });
    throw err;
  }
}

export default function NewInboundEndpoint() {
  const { choices } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  if (result && "created" in result) {
    const c = result.created;
    return (
      <section className="alert ok" role="status" aria-label="Endpoint created">
        <h1>{`Endpoint “${c.name}” created`}</h1>
        <p>Give the sender this URL and secret. Copy the secret now: the hub keeps it encrypted and will not show it again.</p>
        <label htmlFor="endpoint-url">URL</label>
        <input id="endpoint-url" readOnly value={c.url} onFocus={(e) => e.currentTarget.select()} />
        <label htmlFor="endpoint-secret">Secret</label>
        <input id="endpoint-secret" readOnly value={c.secret} onFocus={(e) => e.currentTarget.select()} data-secret />
        <p>
          <Link to={`/console/webhooks/in/${c.id}`}>Open the endpoint</Link>
        </p>
      </section>
    );
  }
  return (
    <>
      <h1>New inbound endpoint</h1>
      {result && "error" in result ? (
        <p className="alert error" role="alert">
          {result.error}
        </p>
      ) : null}
      <InboundEndpointForm
        intent="create"
        values={null}
        choices={choices}
        errors={result && "fields" in result ? result.fields : undefined}
        submitLabel="Create endpoint"
        withSecret
      />
    </>
  );
}
