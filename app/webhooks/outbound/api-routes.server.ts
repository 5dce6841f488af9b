// Outbound webhook endpoints over /api/v1: a supplier token manages its own
// endpoints, an ops token all of them; WedMe/WedSync app tokens have none.
import { z } from "zod";
import type { ApiRoute } from "../../http/api-routes.server";
import type { Principal } from "../../core-fields/principal";
import type { Actor } from "../../audit/audit.server";
import { ForbiddenError } from "../../errors";
import {
  createEndpoint,
  endpointInputSchema,
  endpointPatchSchema,
  getEndpoint,
  listEndpoints,
  rotateInputSchema,
  rotateSecret,
  updateEndpoint,
  OUTBOUND_EVENT_TYPES,
  type EndpointOwner,
} from "./endpoints.server";
import { deliveryStatusSchema, listDeliveries, replayDeliveries, replayInputSchema } from "./deliveries.server";

export const WEBHOOKS_SCOPE = "webhooks:manage";

export function ownerFor(p: Principal): EndpointOwner {
  if (p.type === "supplier") return { type: "supplier", supplierId: p.supplierId };
  if (p.type === "staff") return { type: "staff" };
  throw new ForbiddenError("App tokens cannot manage webhook endpoints; use a supplier or ops token.");
}

export function actorFor(p: Principal): Actor {
  if (p.via === "system") return { type: "system", label: p.label };
  return { type: p.via === "token" ? "api_token" : "user", id: p.id, label: p.label };
}

const uuid = z.uuid("must be a UUID");
const endpointParams = z.object({ endpointId: uuid });
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }).passthrough() });
const errors = {
  401: { description: "Missing, unknown or revoked API token", schema: errorBody },
  403: { description: "The token lacks the scope, or is an app token", schema: errorBody },
  404: { description: "Unknown, or not this supplier's endpoint", schema: errorBody },
};
const endpointSchema = z.object({
  id: uuid,
  name: z.string(),
  description: z.string().nullable(),
  url: z.string(),
  eventTypes: z.array(z.enum(OUTBOUND_EVENT_TYPES)),
  supplierId: uuid.nullable(),
  status: z.enum(["active", "disabled"]),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable(),
  previousSecretExpiresAt: z.string().nullable().describe("While set, both the previous and the new secret sign requests"),
  createdAt: z.string(),
});
const secretSchema = z.string().describe("Standard Webhooks secret (whsec_…); shown only in this response");
const attemptSchema = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number().int().nullable(),
  httpStatus: z.number().int().nullable(),
  outcome: z.string(),
  error: z.string().nullable(),
  responseExcerpt: z.string().nullable(),
});
const deliverySchema = z.object({
  id: uuid.describe("Sent as webhook-id"),
  eventId: z.number().int().nullable(),
  eventType: z.string().nullable(),
  coupleId: uuid.nullable(),
  seq: z.number().int().nullable(),
  status: z.string(),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  recentAttempts: z.array(attemptSchema),
});

export const WEBHOOK_API_ROUTES: ApiRoute[] = [
  {
    method: "get",
    path: "/webhook-endpoints",
    operationId: "listWebhookEndpoints",
    summary: "Outbound webhook endpoints (a supplier token: its own)",
    scope: WEBHOOKS_SCOPE,
    responses: { 200: { description: "The endpoints", schema: z.object({ items: z.array(endpointSchema) }) }, ...errors },
    handler: async (ctx, _req, p) => ({ status: 200, body: { items: await listEndpoints(ctx.db, ownerFor(p)) } }),
  },
  {
    method: "post",
    path: "/webhook-endpoints",
    operationId: "createWebhookEndpoint",
    summary: "Register an outbound webhook endpoint; the signing secret is returned once",
    scope: WEBHOOKS_SCOPE,
    body: endpointInputSchema,
    responses: {
      201: { description: "Created", schema: z.object({ endpoint: endpointSchema, secret: secretSchema }) },
      422: { description: "Invalid input, or a URL the SSRF guard refuses", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req, p) => {
      const created = await createEndpoint(ctx, ownerFor(p), req.body as z.infer<typeof endpointInputSchema>, actorFor(p));
      return { status: 201, body: created, headers: { "Cache-Control": "no-store" } };
    },
  },
  {
    method: "get",
    path: "/webhook-endpoints/:endpointId",
    operationId: "getWebhookEndpoint",
    summary: "One outbound webhook endpoint",
    scope: WEBHOOKS_SCOPE,
    params: endpointParams,
    responses: { 200: { description: "The endpoint", schema: endpointSchema }, ...errors },
    handler: async (ctx, req, p) => ({ status: 200, body: await getEndpoint(ctx.db, ownerFor(p), req.params.endpointId!) }),
  },
  {
    method: "patch",
    path: "/webhook-endpoints/:endpointId",
    operationId: "updateWebhookEndpoint",
    summary: "Change an endpoint's URL, event types, description, or enable/disable it",
    scope: WEBHOOKS_SCOPE,
    params: endpointParams,
    body: endpointPatchSchema,
    responses: {
      200: { description: "Updated", schema: endpointSchema },
      422: { description: "Invalid", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req, p) => ({
      status: 200,
      body: await updateEndpoint(
        ctx,
        ownerFor(p),
        req.params.endpointId!,
        req.body as z.infer<typeof endpointPatchSchema>,
        actorFor(p),
      ),
    }),
  },
  {
    method: "post",
    path: "/webhook-endpoints/:endpointId/rotate-secret",
    operationId: "rotateWebhookSecret",
    summary: "New signing secret; the previous one keeps signing (both signatures sent) for the overlap",
    scope: WEBHOOKS_SCOPE,
    params: endpointParams,
    body: rotateInputSchema,
    responses: {
      200: { description: "Rotated", schema: z.object({ secret: secretSchema, previousSecretExpiresAt: z.string().nullable() }) },
      ...errors,
    },
    handler: async (ctx, req, p) => {
      const body = req.body as z.infer<typeof rotateInputSchema>;
      const rotated = await rotateSecret(ctx, ownerFor(p), req.params.endpointId!, body, actorFor(p));
      return { status: 200, body: rotated, headers: { "Cache-Control": "no-store" } };
    },
  },
  {
    method: "get",
    path: "/webhook-endpoints/:endpointId/deliveries",
    operationId: "listWebhookDeliveries",
    summary: "Recent deliveries of an endpoint with their attempts (status, latency, response excerpt)",
    scope: WEBHOOKS_SCOPE,
    params: endpointParams,
    query: z.object({
      status: deliveryStatusSchema.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    responses: {
      200: { description: "Deliveries, newest first", schema: z.object({ items: z.array(deliverySchema) }) },
      ...errors,
    },
    handler: async (ctx, req, p) => {
      const q = req.query as { status?: z.infer<typeof deliveryStatusSchema>; limit: number };
      return { status: 200, body: { items: await listDeliveries(ctx.db, ownerFor(p), req.params.endpointId!, q) } };
    },
  },
  {
    method: "post",
    path: "/webhook-endpoints/:endpointId/replay",
    operationId: "replayWebhookDeliveries",
    summary: "Send one delivery again (deliveryId), or every delivery created since a time (since)",
    scope: WEBHOOKS_SCOPE,
    params: endpointParams,
    body: replayInputSchema,
    responses: {
      202: { description: "Queued again", schema: z.object({ replayed: z.number().int() }) },
      422: { description: "Neither or both of deliveryId and since", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req, p) => ({
      status: 202,
      body: await replayDeliveries(
        ctx.db,
        ownerFor(p),
        req.params.endpointId!,
        req.body as z.infer<typeof replayInputSchema>,
        actorFor(p),
      ),
    }),
  },
];
