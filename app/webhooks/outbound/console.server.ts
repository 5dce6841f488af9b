// Form handling shared by the vendor area (owner: the vendor's supplier) and the
// staff console (owner: staff): one place turns a posted form into a domain call.
import { data } from "@remix-run/node";
import type { HubContext } from "../../runtime/context.server";
import type { Actor } from "../../audit/audit.server";
import { DomainError, NotFoundError, ValidationError } from "../../errors";
import {
  createEndpoint,
  getEndpoint,
  rotateSecret,
  updateEndpoint,
  OUTBOUND_EVENT_TYPES,
  type EndpointOwner,
} from "./endpoints.server";
import { listDeliveries, replayDeliveries } from "./deliveries.server";

export type EndpointFormResult =
  | { created: { id: string; secret: string } }
  | { rotated: { secret: string; until: string | null } }
  | { saved: true }
  | { replayed: number }
  | { error: string; fields?: Record<string, string[]> };

/** One endpoint and its latest deliveries, as its owner may see them; anything else is a 404 page. */
export async function loadEndpointDetail(ctx: HubContext, owner: EndpointOwner, endpointId: string) {
  try {
    const endpoint = await getEndpoint(ctx.db, owner, endpointId);
    return { endpoint, deliveries: await listDeliveries(ctx.db, owner, endpoint.id, { limit: 100 }) };
  } catch (err) {
    if (err instanceof NotFoundError) throw new Response("Not found", { status: 404 });
    throw err;
  }
}

const eventTypesOf = (form: FormData) =>
  form
    .getAll("eventTypes")
    .map(String)
    .filter((t) => (OUTBOUND_EVENT_TYPES as readonly string[]).includes(t)) as (typeof OUTBOUND_EVENT_TYPES)[number][];

export async function handleEndpointForm(
  ctx: HubContext,
  owner: EndpointOwner,
  actor: Actor,
  form: FormData,
  createdBy: string | null,
) {
  const intent = String(form.get("intent") ?? "");
  const endpointId = String(form.get("endpointId") ?? "");
  const text = (name: string) => String(form.get(name) ?? "").trim();
  const noStore = { headers: { "Cache-Control": "no-store" } };
  try {
    if (intent === "create") {
      const { endpoint, secret } = await createEndpoint(
        ctx,
        owner,
        {
          name: text("name"),
          url: text("url"),
          description: text("description") || undefined,
          eventTypes: eventTypesOf(form),
          supplierId: owner.type === "staff" && text("supplierId") ? text("supplierId") : undefined,
        },
        actor,
        createdBy,
      );
      // The only time the secret leaves the server: in this response, never in a redirect.
      return data<EndpointFormResult>({ created: { id: endpoint.id, secret } }, noStore);
    }
    if (intent === "update") {
      await updateEndpoint(
        ctx,
        owner,
        endpointId,
        { name: text("name"), url: text("url"), description: text("description"), eventTypes: eventTypesOf(form) },
        actor,
      );
      return data<EndpointFormResult>({ saved: true });
    }
    if (intent === "enable" || intent === "disable") {
      await updateEndpoint(ctx, owner, endpointId, { status: intent === "enable" ? "active" : "disabled" }, actor);
      return data<EndpointFormResult>({ saved: true });
    }
    if (intent === "rotate") {
      const hours = Number(text("overlapHours") || "24");
      const r = await rotateSecret(ctx, owner, endpointId, { overlapHours: Number.isFinite(hours) ? hours : 24 }, actor);
      return data<EndpointFormResult>({ rotated: { secret: r.secret, until: r.previousSecretExpiresAt } }, noStore);
    }
    if (intent === "replay-one") {
      const r = await replayDeliveries(ctx.db, owner, endpointId, { deliveryId: text("deliveryId") }, actor);
      return data<EndpointFormResult>({ replayed: r.replayed });
    }
    if (intent === "replay-since") {
      const since = new Date(text("since"));
      if (Number.isNaN(since.getTime()))
        throw new ValidationError("Choose a date and time", { since: ["must be a date and time"] });
      const r = await replayDeliveries(ctx.db, owner, endpointId, { since: since.toISOString() }, actor);
      return data<EndpointFormResult>({ replayed: r.replayed });
    }
    return data<EndpointFormResult>({ error: "Unknown action." }, { status: 400 });
  } catch (err) {
    if (err instanceof ValidationError)
      return data<EndpointFormResult>({ error: err.message, fields: err.fieldErrors }, { status: err.status });
    if (err instanceof DomainError) return data<EndpointFormResult>({ error: err.message }, { status: err.status });
    throw err;
  }
}
