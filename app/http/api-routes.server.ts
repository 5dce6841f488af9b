// Every /api/v1 route, declared once as data: method, path, scope, zod
// schemas and handler. The Express router and the OpenAPI document are both
// generated from this list, so the document cannot drift from the routes.
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import type { Principal } from "../core-fields/principal";
import { BadRequestError, DomainError } from "../errors";
import { readCoreFields, readVendorFields, listCoupleEvents, listSupplierEvents } from "../core-fields/read.server";
import { updateCoreFields, updateVendorFields } from "../core-fields/write.server";
import { queueDiagnosticPings } from "../diagnostics/ping.server";
import { CORE_FIELDS, VENDOR_FIELDS } from "../core-fields/schema";
import { readCoupleAvailability } from "../calendar/availability.server";
import { WEBHOOK_API_ROUTES } from "../webhooks/outbound/api-routes.server";

export class PreconditionRequiredError extends DomainError {
  override readonly status = 428;
  override readonly code = "precondition_required";
}

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | undefined>;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ApiRoute {
  method: "get" | "post" | "patch";
  /** Express-style path under /api/v1, e.g. /couples/:coupleId/core-fields */
  path: string;
  operationId: string;
  summary: string;
  scope: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request headers documented in OpenAPI (parsed by the handler). */
  headers?: { name: string; description: string }[];
  responses: Record<number, { description: string; schema?: z.ZodType; headers?: string[] }>;
  handler: (ctx: HubContext, req: ApiRequest, principal: Principal) => Promise<ApiResponse>;
}

// ------------------------------------------------------------ shared schemas
const uuid = z.uuid("must be a UUID");
const coupleParams = z.object({ coupleId: uuid });
const supplierParams = z.object({ supplierId: uuid });
const pageQuery = z.object({
  after: z.coerce.number({ error: "must be a number" }).int().min(0, "must not be negative").default(0),
  limit: z.coerce
    .number({ error: "must be a number" })
    .int()
    .min(1, "must be at least 1")
    .max(500, "must be at most 500")
    .default(100),
});

const isoDate = z.iso.date("must be a date (YYYY-MM-DD)");
const availabilityQuery = z
  .object({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "from must not be after to", path: ["from"] });
const availabilityBody = z.object({
  coupleId: uuid,
  from: isoDate,
  to: isoDate,
  vendors: z.array(
    z.object({
      supplierId: uuid,
      name: z.string(),
      kind: z.string(),
      busy: z.array(
        z.object({
          start: z.string().describe("RFC 3339 date-time with offset, or a date for all-day blocks"),
          end: z.string().describe("Exclusive end, in the same form as start"),
          allDay: z.boolean(),
          status: z.enum(["busy", "tentative"]),
        }),
      ),
    }),
  ),
});

const fieldValues = z.record(z.string(), z.unknown());
const coreFieldValues = z
  .object(Object.fromEntries(Object.entries(CORE_FIELDS).map(([k, d]) => [k, d.schema.optional()])))
  .describe("Core fields (see the field list); every field is optional");
const vendorFieldValues = z
  .object(Object.fromEntries(Object.entries(VENDOR_FIELDS).map(([k, d]) => [k, d.schema.optional()])))
  .describe("A vendor's own fields for one wedding");

const coreFieldsState = z.object({
  coupleId: uuid,
  version: z.number().int(),
  fields: coreFieldValues,
  updatedAt: z.iso.datetime(),
});
const vendorFieldsState = z.object({ supplierId: uuid, coupleId: uuid, version: z.number().int(), fields: vendorFieldValues });
const patchBody = z.object({
  fields: fieldValues.describe("Field name to new value; null clears a field"),
  version: z.number().int().min(0).optional().describe("The version you last read; alternatively send If-Match"),
});
const changeEvent = z.object({
  id: z.number().int(),
  coupleId: uuid,
  seq: z.number().int().describe("Gapless per couple"),
  streamSeq: z.number().int().describe("Position in the stream read (the couple's seq, or the supplier feed's)"),
  type: z.enum(["core_fields.created", "core_fields.updated", "vendor_fields.updated"]),
  changedFields: z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown() })),
  version: z.number().int(),
  source: z.string(),
  actor: z.string(),
  supplierId: uuid.nullable(),
  occurredAt: z.iso.datetime(),
});
const eventPage = z.object({ items: z.array(changeEvent), next: z.number().int(), hasMore: z.boolean() });
const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.record(z.string(), z.array(z.string())).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const writeResult = (state: z.ZodObject) =>
  state.extend({
    changed: z.boolean().describe("False when the request changed nothing (no new version, no event)"),
    seq: z.number().int().nullable(),
  });

const ifMatch = { name: "If-Match", description: 'The version you last read, e.g. "7" (or send version in the body)' };
const errors = {
  401: { description: "Missing, unknown or revoked API token", schema: errorBody },
  403: { description: "The token lacks the scope, or the writer may not change a field", schema: errorBody },
  404: { description: "Unknown, or not visible to this token", schema: errorBody },
};

/** The version a write expects: If-Match wins over the body; neither is a 428. */
export function expectedVersion(headers: Record<string, string | undefined>, bodyVersion: number | undefined): number {
  const header = headers["if-match"];
  if (header !== undefined) {
    const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
    if (!m) throw new BadRequestError(`If-Match must be the version you last read, like "7" (got ${header}).`);
    return Number(m[1]);
  }
  if (bodyVersion !== undefined) return bodyVersion;
  throw new PreconditionRequiredError(
    'Send the version you last read, as an If-Match header ("7") or as "version" in the body, so concurrent changes are not overwritten.',
  );
}

const etag = (version: number) => `"${version}"`;

/** The answer to a versioned write: the new state, whether anything changed, and its ETag. */
function written(result: { state: { version: number }; event: { seq: number } | null }): ApiResponse {
  const { state, event } = result;
  return {
    status: 200,
    body: { ...state, changed: event !== null, seq: event?.seq ?? null },
    headers: { ETag: etag(state.version) },
  };
}

export const API_ROUTES: ApiRoute[] = [
  {
    method: "get",
    path: "/couples/:coupleId/core-fields",
    operationId: "getCoreFields",
    summary: "Read a couple's current core fields and version",
    scope: "core-fields:read",
    params: coupleParams,
    responses: { 200: { description: "The current core fields", schema: coreFieldsState, headers: ["ETag"] }, ...errors },
    handler: async (ctx, req, p) => {
      const state = await readCoreFields(ctx.db, p, req.params.coupleId!);
      return { status: 200, body: state, headers: { ETag: etag(state.version) } };
    },
  },
  {
    method: "patch",
    path: "/couples/:coupleId/core-fields",
    operationId: "updateCoreFields",
    summary: "Change some core fields, with optimistic concurrency on the version",
    scope: "core-fields:write",
    params: coupleParams,
    body: patchBody,
    headers: [ifMatch],
    responses: {
      200: { description: "Changed (or nothing to change)", schema: writeResult(coreFieldsState), headers: ["ETag"] },
      409: { description: "The version is not the current one; details.currentVersion says which is", schema: errorBody },
      422: { description: "Unknown fields or invalid values, with a message per field; nothing was written", schema: errorBody },
      428: { description: "No version given", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req, p) => {
      const body = req.body as z.infer<typeof patchBody>;
      const expected = expectedVersion(req.headers, body.version);
      return written(
        await updateCoreFields(ctx.db, p, { coupleId: req.params.coupleId!, patch: body.fields, expectedVersion: expected }),
      );
    },
  },
  {
    method: "get",
    path: "/couples/:coupleId/events",
    operationId: "listCoupleEvents",
    summary: "A couple's change events after a sequence, in order",
    scope: "events:read",
    params: coupleParams,
    query: pageQuery,
    responses: { 200: { description: "A page of events", schema: eventPage }, ...errors },
    handler: async (ctx, req, p) => {
      const q = req.query as z.infer<typeof pageQuery>;
      return { status: 200, body: await listCoupleEvents(ctx.db, p, req.params.coupleId!, q.after, q.limit) };
    },
  },
  {
    method: "get",
    path: "/couples/:coupleId/availability",
    operationId: "getVendorAvailability",
    summary: "Busy times of the couple's connected vendors, pulled from their calendars (default: the next 365 days)",
    scope: "core-fields:read",
    params: coupleParams,
    query: availabilityQuery,
    responses: { 200: { description: "Each vendor's busy blocks in the window", schema: availabilityBody }, ...errors },
    handler: async (ctx, req, p) => {
      const q = req.query as z.infer<typeof availabilityQuery>;
      const today = new Date().toISOString().slice(0, 10);
      const from = q.from ?? today;
      const to = q.to ?? new Date(Date.parse(from) + 365 * 86_400_000).toISOString().slice(0, 10);
      return { status: 200, body: await readCoupleAvailability(ctx.db, p, req.params.coupleId!, { from, to }) };
    },
  },
  {
    method: "get",
    path: "/couples/:coupleId/vendor-fields",
    operationId: "listVendorFields",
    summary: "What each connected vendor has set for this wedding (availability, arrival, notes)",
    scope: "core-fields:read",
    params: coupleParams,
    responses: {
      200: { description: "One entry per visible vendor", schema: z.object({ items: z.array(vendorFieldsState) }) },
      ...errors,
    },
    handler: async (ctx, req, p) => ({ status: 200, body: { items: await readVendorFields(ctx.db, p, req.params.coupleId!) } }),
  },
  {
    method: "get",
    path: "/suppliers/:supplierId/events",
    operationId: "listSupplierEvents",
    summary: "A supplier's feed: events of all its couples, after a feed position, in order",
    scope: "events:read",
    params: supplierParams,
    query: pageQuery,
    responses: { 200: { description: "A page of events; streamSeq is the feed position", schema: eventPage }, ...errors },
    handler: async (ctx, req, p) => {
      const q = req.query as z.infer<typeof pageQuery>;
      return { status: 200, body: await listSupplierEvents(ctx.db, p, req.params.supplierId!, q.after, q.limit) };
    },
  },
  {
    method: "get",
    path: "/suppliers/:supplierId/couples/:coupleId/vendor-fields",
    operationId: "getVendorFields",
    summary: "One vendor's own fields for one wedding",
    scope: "core-fields:read",
    params: z.object({ supplierId: uuid, coupleId: uuid }),
    responses: { 200: { description: "The vendor fields", schema: vendorFieldsState, headers: ["ETag"] }, ...errors },
    handler: async (ctx, req, p) => {
      const [state] = await readVendorFields(ctx.db, p, req.params.coupleId!, req.params.supplierId!);
      return { status: 200, body: state, headers: { ETag: etag(state!.version) } };
    },
  },
  {
    method: "patch",
    path: "/suppliers/:supplierId/couples/:coupleId/vendor-fields",
    operationId: "updateVendorFields",
    summary: "A vendor changes its own fields for a wedding (availability, arrival time, notes), versioned",
    scope: "core-fields:write",
    params: z.object({ supplierId: uuid, coupleId: uuid }),
    body: patchBody,
    headers: [ifMatch],
    responses: {
      200: { description: "Changed (or nothing to change)", schema: writeResult(vendorFieldsState), headers: ["ETag"] },
      409: { description: "Version conflict", schema: errorBody },
      422: { description: "Invalid fields", schema: errorBody },
      428: { description: "No version given", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req, p) => {
      const body = req.body as z.infer<typeof patchBody>;
      const expected = expectedVersion(req.headers, body.version);
      const { supplierId, coupleId } = req.params as { supplierId: string; coupleId: string };
      return written(
        await updateVendorFields(ctx.db, p, { supplierId, coupleId, patch: body.fields, expectedVersion: expected }),
      );
    },
  },
  {
    method: "post",
    path: "/diagnostics/ping",
    operationId: "queueDiagnosticPing",
    summary: "Queue diagnostic jobs (ops): proves the workers run each job once",
    scope: "ops",
    body: z.object({ count: z.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(1) }),
    responses: {
      202: { description: "Queued", schema: z.object({ queued: z.number().int(), keys: z.array(z.string()) }) },
      422: { description: "Invalid count", schema: errorBody },
      ...errors,
    },
    handler: async (ctx, req) => {
      const { count } = req.body as { count: number };
      const keys = await ctx.db.transaction((tx) => queueDiagnosticPings(tx, count));
      return { status: 202, body: { queued: keys.length, keys } };
    },
  },
  ...WEBHOOK_API_ROUTES,
];
