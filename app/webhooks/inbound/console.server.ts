// What the console's inbound webhook pages need beyond the endpoint CRUD:
// reading the endpoint form, the detail view, and the "sample request" (a
// curl that verifies, signed server-side with the real secret, staff only).
import crypto from "node:crypto";
import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "../../db.server";
import type { HubContext } from "../../runtime/context.server";
import { mappings, suppliers } from "../../../db/schema";
import { listMappings } from "../../mapping/store.server";
import {
  deliveriesOf,
  getInboundEndpoint,
  INBOUND_PATH,
  liveSecrets,
  refusalsOf,
  type InboundEndpoint,
} from "./endpoints.server";
import { attemptsOf } from "./process.server";
import { signRequest, toCurl } from "./schemes";

/** The endpoint form's fields → the input createInboundEndpoint/updateInboundEndpoint parse (zod there). */
export function endpointInputFromForm(form: FormData): Record<string, unknown> {
  const text = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const schemeId = text("scheme") ?? "";
  const scheme: Record<string, unknown> = { id: schemeId };
  if (schemeId === "hmac-sha256") {
    scheme.header = text("hmacHeader") || undefined;
    scheme.encoding = text("hmacEncoding") || undefined;
    scheme.prefix = text("hmacPrefix") ?? "";
    scheme.timestampHeader = text("hmacTimestampHeader") || undefined;
    scheme.idHeader = text("hmacIdHeader") || undefined;
  }
  if (schemeId === "stripe") scheme.header = text("stripeHeader") || undefined;
  return {
    name: text("name"),
    description: text("description"),
    supplierId: text("supplierId"),
    scheme,
    mappingId: text("mappingId"),
    applyAs: text("applyAs"),
    coupleIdExpression: text("coupleIdExpression"),
    rateLimitPerMinute: text("rateLimitPerMinute") || undefined,
    maxBodyBytes: text("maxBodyBytes") || undefined,
  };
}

/** Choices for the form: suppliers and the mappings an endpoint can apply. */
export async function endpointFormChoices(db: DbOrTx) {
  const [supplierRows, mappingRows] = await Promise.all([
    db.select({ id: suppliers.id, name: suppliers.name }).from(suppliers).orderBy(asc(suppliers.name)),
    listMappings(db),
  ]);
  return {
    suppliers: supplierRows,
    mappings: mappingRows
      .filter((m) => m.target === "core-fields" || m.target === "wedsync-client")
      .map((m) => ({ id: m.id, slug: m.slug, name: m.name, target: m.target, activeVersion: m.activeVersion })),
  };
}

/** A sample body a sender might post, shaped for the endpoint's kind. */
function samplePayload(endpoint: InboundEndpoint): Record<string, unknown> {
  if (endpoint.applyAs === "client")
    return { type: "client.updated", client: { id: "client-123", name: "Alex Example", email: "alex@example.com" } };
  return { type: "wedding.updated", coupleId: "00000000-0000-4000-8000-000000000000", guestCount: 120 };
}

export function sampleRequest(ctx: HubContext, endpoint: InboundEndpoint, now = new Date()) {
  const secret = liveSecrets(ctx.vault, endpoint, now)[0];
  if (!secret) return null;
  const url = `${ctx.publicUrl()}${INBOUND_PATH(endpoint.id)}`;
  const signed = signRequest(endpoint.settings.scheme, {
    url,
    secret,
    payload: samplePayload(endpoint),
    now,
    id: `msg_${crypto.randomBytes(9).toString("base64url")}`,
  });
  return { curl: toCurl(signed), validUntil: new Date(now.getTime() + 5 * 60_000).toISOString() };
}

export async function inboundEndpointDetail(ctx: HubContext, id: string, opts: { status?: string } = {}) {
  const endpoint = await getInboundEndpoint(ctx.db, id);
  const [deliveries, refusals, mapping] = await Promise.all([
    deliveriesOf(ctx.db, id, { status: opts.status, limit: 50 }),
    refusalsOf(ctx.db, id),
    endpoint.mappingId
      ? ctx.db.select({ slug: mappings.slug, name: mappings.name }).from(mappings).where(eq(mappings.id, endpoint.mappingId))
      : Promise.resolve([]),
  ]);
  const attempts = await attemptsOf(
    ctx.db,
    deliveries.map((d) => d.id),
  );
  return { endpoint, deliveries, attempts, refusals, mapping: mapping[0] ?? null, url: `${ctx.publicUrl()}${INBOUND_PATH(id)}` };
}
