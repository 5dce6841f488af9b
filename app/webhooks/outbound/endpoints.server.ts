// Outbound webhook endpoints: registered by a supplier (vendor area, API) for
// its own weddings, or by staff for everything. The signing secret is shown
// once, kept encrypted, and rotated with an overlap window in which both the
// old and the new secret sign every request.
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../../db.server";
import type { Vault } from "../../crypto/secrets.server";
import type { Actor } from "../../audit/audit.server";
import { recordAudit } from "../../audit/audit.server";
import { NotFoundError, ValidationError } from "../../errors";
import { webhookDeliveries, webhookEndpoints } from "../../../db/schema";
import type { WebhooksOutConfig } from "./config";
import { checkEndpointUrl, compilePolicy, SsrfRefusedError, type Resolver } from "./ssrf";
import { generateSecret } from "./signing";
import { enqueueDeliveryQueue } from "./queue.server";

export const OUTBOUND_EVENT_TYPES = ["core_fields.created", "core_fields.updated", "vendor_fields.updated"] as const;

/** Who owns (and may manage) endpoints: staff see all outbound endpoints, a supplier only its own. */
export type EndpointOwner = { type: "staff" } | { type: "supplier"; supplierId: string };

export interface OutboundDeps {
  db: DbOrTx;
  vault: Vault;
  config: { webhooksOut: WebhooksOutConfig };
  /** Tests inject DNS answers. */
  resolve?: Resolver;
}

export const endpointInputSchema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100),
  url: z.string().trim().min(1, "must not be empty").max(2000),
  eventTypes: z
    .array(z.enum(OUTBOUND_EVENT_TYPES, { error: `each event type must be one of ${OUTBOUND_EVENT_TYPES.join(", ")}` }))
    .max(OUTBOUND_EVENT_TYPES.length)
    .default([])
    .describe("Event types to receive; empty means all"),
  description: z.string().trim().max(500).optional(),
  /** Staff only: register the endpoint for a supplier (it then sees only that supplier's events). */
  supplierId: z.uuid().optional(),
});
export type EndpointInput = z.input<typeof endpointInputSchema>;

export const endpointPatchSchema = endpointInputSchema
  .omit({ supplierId: true })
  .partial()
  .extend({
    status: z.enum(["active", "disabled"]).optional(),
  });
export type EndpointPatch = z.input<typeof endpointPatchSchema>;

export const rotateInputSchema = z.object({
  /** How long the previous secret keeps signing (both signatures are sent meanwhile). */
  overlapHours: z
    .number()
    .min(0)
    .max(24 * 7)
    .default(24),
});

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface EndpointView {
  id: string;
  name: string;
  description: string | null;
  url: string;
  eventTypes: string[];
  supplierId: string | null;
  status: "active" | "disabled";
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  /** While set, the previous secret still signs alongside the new one. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function endpointView(row: EndpointRow): EndpointView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    url: row.url ?? "",
    eventTypes: row.eventTypes,
    supplierId: row.supplierId,
    status: row.status,
    disabledAt: iso(row.disabledAt),
    disabledReason: row.disabledReason,
    failingSince: iso(row.failingSince),
    previousSecretExpiresAt:
      row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? iso(row.previousSecretExpiresAt) : null,
    createdAt: row.createdAt.toISOString(),
  };
}

async function validUrl(deps: OutboundDeps, url: string): Promise<string> {
  try {
    return (await checkEndpointUrl(url, compilePolicy(policyOf(deps.config.webhooksOut)), deps.resolve)).toString();
  } catch (err) {
    if (err instanceof SsrfRefusedError) throw new ValidationError("The URL cannot be used", { url: [err.message] });
    throw err;
  }
}

export function policyOf(c: WebhooksOutConfig) {
  return { allowHttp: c.allowHttp, allow: c.ssrfAllow };
}

function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fields: Record<string, string[]> = {};
  for (const i of r.error.issues) (fields[String(i.path[0] ?? "body")] ??= []).push(i.message);
  throw new ValidationError("Invalid webhook endpoint", fields);
}

export async function createEndpoint(
  deps: OutboundDeps,
  owner: EndpointOwner,
  raw: EndpointInput,
  actor: Actor,
  createdBy: string | null = null,
): Promise<{ endpoint: EndpointView; secret: string }> {
  const input = parseOrThrow(endpointInputSchema, raw);
  if (owner.type === "supplier" && input.supplierId && input.supplierId !== owner.supplierId)
    throw new NotFoundError("No such supplier");
  const supplierId = owner.type === "supplier" ? owner.supplierId : (input.supplierId ?? null);
  const url = await validUrl(deps, input.url);
  const secret = generateSecret();
  const [row] = await deps.db
    .insert(webhookEndpoints)
    .values({
      direction: "out",
      supplierId,
      name: input.name,
      description: input.description ?? null,
      url,
      eventTypes: input.eventTypes,
      secretEnc: deps.vault.encrypt(secret),
      createdBy,
    })
    .returning();
  const endpoint = endpointView(row!);
  await recordAudit(deps.db, actor, {
    action: "webhook_endpoint.created",
    entityType: "webhook_endpoint",
    entityId: row!.id,
    after: endpoint,
  });
  return { endpoint, secret };
}

function ownerFilter(owner: EndpointOwner) {
  return owner.type === "supplier"
    ? and(eq(webhookEndpoints.direction, "out"), eq(webhookEndpoints.supplierId, owner.supplierId))
    : eq(webhookEndpoints.direction, "out");
}

export async function listEndpoints(db: DbOrTx, owner: EndpointOwner): Promise<EndpointView[]> {
  const rows = await db.select().from(webhookEndpoints).where(ownerFilter(owner)).orderBy(desc(webhookEndpoints.createdAt));
  return rows.map(endpointView);
}

export async function loadEndpoint(db: DbOrTx, owner: EndpointOwner, id: string, forUpdate = false): Promise<EndpointRow> {
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("No such webhook endpoint");
  const q = db
    .select()
    .from(webhookEndpoints)
    .where(and(ownerFilter(owner), eq(webhookEndpoints.id, id)));
  const [row] = forUpdate ? await q.for("update") : await q;
  if (!row) throw new NotFoundError("No such webhook endpoint");
  return row;
}

export async function getEndpoint(db: DbOrTx, owner: EndpointOwner, id: string): Promise<EndpointView> {
  return endpointView(await loadEndpoint(db, owner, id));
}

export async function updateEndpoint(
  deps: OutboundDeps,
  owner: EndpointOwner,
  id: string,
  raw: EndpointPatch,
  actor: Actor,
): Promise<EndpointView> {
  const patch = parseOrThrow(endpointPatchSchema, raw);
  const url = patch.url === undefined ? undefined : await validUrl(deps, patch.url);
  const run = async (tx: DbOrTx) => {
    const before = await loadEndpoint(tx, owner, id, true);
    const reenable = patch.status === "active" && before.status === "disabled";
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description || null } : {}),
        ...(url !== undefined ? { url } : {}),
        ...(patch.eventTypes !== undefined ? { eventTypes: patch.eventTypes } : {}),
        ...(patch.status === "disabled" && before.status === "active"
          ? { status: "disabled" as const, disabledAt: new Date(), disabledReason: "Disabled by hand" }
          : {}),
        ...(reenable ? { status: "active" as const, disabledAt: null, disabledReason: null, failingSince: null } : {}),
        updatedAt: new Date(),
      })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    // Deliveries that waited while the endpoint was disabled go out again, in order.
    if (reenable) await enqueuePendingQueues(tx, id);
    const after = endpointView(row!);
    await recordAudit(tx, actor, {
      action: reenable ? "webhook_endpoint.enabled" : "webhook_endpoint.updated",
      entityType: "webhook_endpoint",
      entityId: id,
      before: endpointView(before),
      after,
    });
    return after;
  };
  return deps.db.transaction(run);
}

export async function rotateSecret(
  deps: OutboundDeps,
  owner: EndpointOwner,
  id: string,
  raw: z.input<typeof rotateInputSchema>,
  actor: Actor,
): Promise<{ secret: string; previousSecretExpiresAt: string | null }> {
  const { overlapHours } = parseOrThrow(rotateInputSchema, raw);
  const run = async (tx: DbOrTx) => {
    const row = await loadEndpoint(tx, owner, id, true);
    const secret = generateSecret();
    const expires = overlapHours > 0 && row.secretEnc ? new Date(Date.now() + overlapHours * 3_600_000) : null;
    await tx
      .update(webhookEndpoints)
      .set({
        secretEnc: deps.vault.encrypt(secret),
        previousSecretEnc: expires ? row.secretEnc : null,
        previousSecretExpiresAt: expires,
        updatedAt: new Date(),
      })
      .where(eq(webhookEndpoints.id, id));
    await recordAudit(tx, actor, {
      action: "webhook_endpoint.secret_rotated",
      entityType: "webhook_endpoint",
      entityId: id,
      after: { previousSecretExpiresAt: iso(expires) },
    });
    return { secret, previousSecretExpiresAt: iso(expires) };
  };
  return deps.db.transaction(run);
}

/** The secrets that sign a request now: the previous one first while its overlap lasts, then the current one. */
export function signingSecrets(vault: Vault, row: EndpointRow, now = new Date()): string[] {
  const out: string[] = [];
  if (row.previousSecretEnc && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now)
    out.push(vault.decrypt(row.previousSecretEnc));
  if (row.secretEnc) out.push(vault.decrypt(row.secretEnc));
  return out;
}

/** Queue the delivery job of every couple with deliveries still waiting for this endpoint. */
export async function enqueuePendingQueues(db: DbOrTx, endpointId: string): Promise<number> {
  const rows = await db
    .selectDistinct({ coupleId: webhookDeliveries.coupleId })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, "pending")));
  for (const r of rows) await enqueueDeliveryQueue(db, endpointId, r.coupleId, { now: true });
  return rows.length;
}
