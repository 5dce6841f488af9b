// Inbound endpoints: one per source (a vendor's system, a provider). The
// scheme and its options live in webhook_endpoints.verification (with the
// JSONata expression that finds the couple in a payload); the secret is in the
// vault (secret_enc), shown once when generated, never logged. Rotation keeps
// the previous secret verifying until previous_secret_expires_at.
import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../../db.server";
import type { Vault } from "../../crypto/secrets.server";
import { mappings, suppliers, webhookDeliveries, webhookEndpoints, webhookRefusals } from "../../../db/schema";
import { NotFoundError, ValidationError } from "../../errors";
import { recordAudit, type Actor } from "../../audit/audit.server";
import { compileMapping, MappingSyntaxError } from "../../mapping/engine";
import { isTargetId, type TargetId } from "../../mapping/targets";
import { generateSecret, schemeConfigSchema, secretProblem, type SchemeConfig, type SchemeId } from "./schemes";

export const INBOUND_PATH = (endpointId: string) => `/webhooks/in/${endpointId}`;

export const APPLY_TARGET: Record<"core-fields" | "client", TargetId> = {
  "core-fields": "core-fields",
  client: "wedsync-client",
};

/** webhook_endpoints.verification of an inbound endpoint. */
export const inboundSettingsSchema = z.object({
  scheme: schemeConfigSchema,
  /** JSONata over the payload giving the couple's id (core-fields endpoints). */
  coupleIdExpression: z.string().trim().min(1).max(500).default("coupleId"),
});
export type InboundSettings = z.infer<typeof inboundSettingsSchema>;

const optionalUuid = z.preprocess(
  (v) => (v === "" || v === undefined ? null : v),
  z.uuid("must be chosen from the list").nullable(),
);

export const inboundEndpointInputSchema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(120),
  description: z
    .string()
    .trim()
    .max(500)
    .optional()
    .transform((v) => v || null),
  supplierId: optionalUuid,
  scheme: schemeConfigSchema,
  mappingId: optionalUuid,
  applyAs: z.enum(["core-fields", "client"], { error: "must be core-fields or client" }),
  coupleIdExpression: z.string().trim().max(500).optional(),
  rateLimitPerMinute: z.coerce.number().int("must be a whole number").min(1).max(100_000).default(600),
  maxBodyBytes: z.coerce
    .number()
    .int("must be a whole number")
    .min(256, "must be at least 256 bytes")
    .max(10 * 1024 * 1024, "must be at most 10 MiB")
    .default(262_144),
});
export type InboundEndpointInput = z.input<typeof inboundEndpointInputSchema>;

export interface InboundEndpoint {
  id: string;
  name: string;
  description: string | null;
  supplierId: string | null;
  settings: InboundSettings;
  mappingId: string | null;
  applyAs: "core-fields" | "client";
  rateLimitPerMinute: number;
  maxBodyBytes: number;
  status: "active" | "disabled";
  secretEnc: string | null;
  previousSecretEnc: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

type Row = typeof webhookEndpoints.$inferSelect;

export function toInboundEndpoint(row: Row): InboundEndpoint {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    supplierId: row.supplierId,
    settings: inboundSettingsSchema.parse(row.verification),
    mappingId: row.mappingId,
    applyAs: row.applyAs ?? "core-fields",
    rateLimitPerMinute: row.rateLimitPerMinute,
    maxBodyBytes: row.maxBodyBytes,
    status: row.status,
    secretEnc: row.secretEnc,
    previousSecretEnc: row.previousSecretEnc,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The secrets that verify now: current first, then the previous one during its overlap. */
export function liveSecrets(
  vault: Vault,
  e: Pick<InboundEndpoint, "secretEnc" | "previousSecretEnc" | "previousSecretExpiresAt">,
  now: Date,
): string[] {
  const out: string[] = [];
  if (e.secretEnc) out.push(vault.decrypt(e.secretEnc));
  if (e.previousSecretEnc && e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > now.getTime())
    out.push(vault.decrypt(e.previousSecretEnc));
  return out;
}

export async function getInboundEndpoint(db: DbOrTx, id: string): Promise<InboundEndpoint> {
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("No such inbound webhook endpoint");
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.direction, "in")));
  if (!row) throw new NotFoundError("No such inbound webhook endpoint");
  return toInboundEndpoint(row);
}

async function checkInput(db: DbOrTx, input: z.infer<typeof inboundEndpointInputSchema>): Promise<void> {
  const problems: Record<string, string[]> = {};
  if (input.applyAs === "client" && !input.supplierId)
    problems.supplierId = ["choose the supplier whose clients this endpoint upserts"];
  if (input.supplierId) {
    const [s] = await db.select({ id: suppliers.id }).from(suppliers).where(eq(suppliers.id, input.supplierId));
    if (!s) problems.supplierId = ["no such supplier"];
  }
  if (input.mappingId) {
    const [m] = await db.select().from(mappings).where(eq(mappings.id, input.mappingId));
    const kind = String((m?.target as { kind?: unknown } | undefined)?.kind ?? "");
    const want = APPLY_TARGET[input.applyAs];
    if (!m) problems.mappingId = ["no such mapping"];
    else if (!isTargetId(kind) || kind !== want)
      problems.mappingId = [
        `"${m.slug}" produces ${kind || "an unknown target"}; applying as ${input.applyAs} needs a ${want} mapping`,
      ];
  }
  if (input.coupleIdExpression) {
    try {
      compileMapping(input.coupleIdExpression);
    } catch (err) {
      if (!(err instanceof MappingSyntaxError)) throw err;
      problems.coupleIdExpression = [err.message];
    }
  }
  if (Object.keys(problems).length) throw new ValidationError("Some settings need fixing; nothing was saved.", problems);
}

function settingsOf(input: z.infer<typeof inboundEndpointInputSchema>): InboundSettings {
  return inboundSettingsSchema.parse({ scheme: input.scheme, coupleIdExpression: input.coupleIdExpression || undefined });
}

function parseInput(raw: unknown) {
  const parsed = inboundEndpointInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) (fields[issue.path.join(".") || "_"] ??= []).push(issue.message);
  throw new ValidationError("Some settings need fixing; nothing was saved.", fields);
}

function checkSecret(scheme: SchemeId, secret: string): void {
  const problem = secretProblem(scheme, secret);
  if (problem) throw new ValidationError(`The secret ${problem}.`, { secret: [problem] });
}

/** Create an endpoint; the secret is generated unless one is given (a provider's token). Returns it once. */
export async function createInboundEndpoint(
  db: DbOrTx,
  vault: Vault,
  raw: unknown,
  opts: { secret?: string | null; actor: Actor; createdBy?: string | null },
): Promise<{ endpoint: InboundEndpoint; secret: string }> {
  const input = parseInput(raw);
  await checkInput(db, input);
  const secret = opts.secret?.trim() || generateSecret(input.scheme.id);
  checkSecret(input.scheme.id, secret);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        direction: "in",
        name: input.name,
        description: input.description,
        supplierId: input.supplierId,
        verification: settingsOf(input),
        secretEnc: vault.encrypt(secret),
        mappingId: input.mappingId,
        applyAs: input.applyAs,
        rateLimitPerMinute: input.rateLimitPerMinute,
        maxBodyBytes: input.maxBodyBytes,
        createdBy: opts.createdBy ?? null,
      })
      .returning();
    const endpoint = toInboundEndpoint(row!);
    await recordAudit(tx, opts.actor, {
      action: "webhook_in.create",
      entityType: "webhook_endpoint",
      entityId: endpoint.id,
      after: publicView(endpoint),
    });
    return { endpoint, secret };
  });
}

export async function updateInboundEndpoint(db: DbOrTx, id: string, raw: unknown, actor: Actor): Promise<InboundEndpoint> {
  const input = parseInput(raw);
  await checkInput(db, input);
  return db.transaction(async (tx) => {
    const before = await getInboundEndpoint(tx, id);
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        name: input.name,
        description: input.description,
        supplierId: input.supplierId,
        verification: settingsOf(input),
        mappingId: input.mappingId,
        applyAs: input.applyAs,
        rateLimitPerMinute: input.rateLimitPerMinute,
        maxBodyBytes: input.maxBodyBytes,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, id))
      .returning();
    const after = toInboundEndpoint(row!);
    await recordAudit(tx, actor, {
      action: "webhook_in.update",
      entityType: "webhook_endpoint",
      entityId: id,
      before: publicView(before),
      after: publicView(after),
    });
    return after;
  });
}

export async function setInboundEndpointStatus(
  db: DbOrTx,
  id: string,
  status: "active" | "disabled",
  actor: Actor,
): Promise<void> {
  await db.transaction(async (tx) => {
    await getInboundEndpoint(tx, id);
    await tx
      .update(webhookEndpoints)
      .set({
        status,
        disabledAt: status === "disabled" ? sql`now()` : null,
        disabledReason: status === "disabled" ? "disabled in the console" : null,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, id));
    await recordAudit(tx, actor, {
      action: `webhook_in.${status === "active" ? "enable" : "disable"}`,
      entityType: "webhook_endpoint",
      entityId: id,
    });
  });
}

/**
 * New secret (generated, or the provider's new token); the old one keeps
 * verifying for `overlapSeconds` so senders can switch without refusals.
 */
export async function rotateInboundSecret(
  db: DbOrTx,
  vault: Vault,
  id: string,
  opts: { secret?: string | null; overlapSeconds: number; actor: Actor },
): Promise<{ secret: string; previousExpiresAt: Date | null }> {
  const overlap = z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .parse(opts.overlapSeconds);
  return db.transaction(async (tx) => {
    const e = await getInboundEndpoint(tx, id);
    const secret = opts.secret?.trim() || generateSecret(e.settings.scheme.id);
    checkSecret(e.settings.scheme.id, secret);
    const previousExpiresAt = overlap > 0 && e.secretEnc ? new Date(Date.now() + overlap * 1000) : null;
    await tx
      .update(webhookEndpoints)
      .set({
        secretEnc: vault.encrypt(secret),
        previousSecretEnc: previousExpiresAt ? e.secretEnc : null,
        previousSecretExpiresAt: previousExpiresAt,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, id));
    await recordAudit(tx, opts.actor, {
      action: "webhook_in.rotate_secret",
      entityType: "webhook_endpoint",
      entityId: id,
      after: { previousSecretExpiresAt: previousExpiresAt?.toISOString() ?? null },
    });
    return { secret, previousExpiresAt };
  });
}

/** What the audit trail and the console may show: everything but secrets. */
export function publicView(e: InboundEndpoint) {
  return {
    name: e.name,
    description: e.description,
    supplierId: e.supplierId,
    scheme: e.settings.scheme,
    coupleIdExpression: e.settings.coupleIdExpression,
    mappingId: e.mappingId,
    applyAs: e.applyAs,
    rateLimitPerMinute: e.rateLimitPerMinute,
    maxBodyBytes: e.maxBodyBytes,
    status: e.status,
  };
}

// ------------------------------------------------------------------ console reads

export interface InboundEndpointSummary {
  id: string;
  name: string;
  scheme: SchemeConfig["id"];
  applyAs: "core-fields" | "client";
  status: "active" | "disabled";
  mappingSlug: string | null;
  supplierName: string | null;
  counts: Record<string, number>;
  refusals: number;
  lastDeliveryAt: Date | null;
}

export async function listInboundEndpoints(db: DbOrTx): Promise<InboundEndpointSummary[]> {
  const rows = await db
    .select({ e: webhookEndpoints, slug: mappings.slug, supplier: suppliers.name })
    .from(webhookEndpoints)
    .leftJoin(mappings, eq(mappings.id, webhookEndpoints.mappingId))
    .leftJoin(suppliers, eq(suppliers.id, webhookEndpoints.supplierId))
    .where(eq(webhookEndpoints.direction, "in"))
    .orderBy(desc(webhookEndpoints.createdAt));
  const counts = await db.execute<{ endpoint_id: string; status: string; n: number; last: Date | null }>(sql`
    select d.endpoint_id, d.status, count(*)::int as n, max(d.created_at) as last
    from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
    where e.direction = 'in' group by d.endpoint_id, d.status`);
  const refusals = await db.execute<{ endpoint_ref: string; n: number }>(sql`
    select endpoint_ref, count(*)::int as n from webhook_refusals group by endpoint_ref`);
  const refusalsBy = new Map(refusals.rows.map((r) => [r.endpoint_ref, r.n]));
  return rows.map(({ e, slug, supplier }) => {
    const mine = counts.rows.filter((c) => c.endpoint_id === e.id);
    const settings = inboundSettingsSchema.safeParse(e.verification);
    const last = mine.map((c) => (c.last ? new Date(c.last).getTime() : 0)).reduce((a, b) => Math.max(a, b), 0);
    return {
      id: e.id,
      name: e.name,
      scheme: settings.success ? settings.data.scheme.id : "standard-webhooks",
      applyAs: e.applyAs ?? "core-fields",
      status: e.status,
      mappingSlug: slug,
      supplierName: supplier,
      counts: Object.fromEntries(mine.map((c) => [c.status, c.n])),
      refusals: refusalsBy.get(e.id) ?? 0,
      lastDeliveryAt: last ? new Date(last) : null,
    };
  });
}

export async function refusalsOf(db: DbOrTx, endpointId: string, limit = 20) {
  const recent = await db
    .select()
    .from(webhookRefusals)
    .where(eq(webhookRefusals.endpointRef, endpointId))
    .orderBy(desc(webhookRefusals.id))
    .limit(limit);
  const byStatus = await db.execute<{ status: number; n: number }>(
    sql`select status, count(*)::int as n from webhook_refusals where endpoint_ref = ${endpointId} group by status order by status`,
  );
  return { recent, byStatus: byStatus.rows, total: byStatus.rows.reduce((a, r) => a + r.n, 0) };
}

export async function deliveriesOf(db: DbOrTx, endpointId: string, opts: { status?: string; limit?: number } = {}) {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      opts.status
        ? and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, opts.status))
        : eq(webhookDeliveries.endpointId, endpointId),
    )
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(opts.limit ?? 50);
}
