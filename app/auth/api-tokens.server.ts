// Bearer tokens for the JSON API and realtime clients. Shown once at creation;
// only a SHA-256 is stored. Format: whub_<prefix>_<secret>.
import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import { apiTokens, suppliers } from "../../db/schema";
import { randomToken, sha256 } from "../crypto/secrets.server";
import { NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { fieldErrorsOf } from "./users.server";

export const API_SCOPES = ["core-fields:read", "core-fields:write", "events:read", "ops", "webhooks:manage"] as const;

export const newApiTokenSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(100),
    kind: z.enum(["wedme", "wedsync", "supplier", "ops"], { error: "must be wedme, wedsync, supplier or ops" }),
    supplierId: z.uuid("must be a supplier id").optional(),
    scopes: z
      .array(z.enum(API_SCOPES, { error: `each scope must be one of ${API_SCOPES.join(", ")}` }))
      .min(1, "name at least one scope"),
  })
  .refine((t) => (t.kind === "supplier") === Boolean(t.supplierId), {
    message: "a supplier token needs a supplier id, and only supplier tokens have one",
    path: ["supplierId"],
  });

export interface ApiPrincipal {
  tokenId: string;
  name: string;
  kind: "wedme" | "wedsync" | "supplier" | "ops";
  supplierId: string | null;
  scopes: string[];
}

export async function createApiToken(
  db: DbOrTx,
  input: z.input<typeof newApiTokenSchema>,
  actor: Actor,
): Promise<{ token: string; principal: ApiPrincipal }> {
  const parsed = newApiTokenSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError("The API token could not be created", fieldErrorsOf(parsed.error));
  const t = parsed.data;
  if (t.supplierId) {
    const [s] = await db.select({ id: suppliers.id }).from(suppliers).where(eq(suppliers.id, t.supplierId));
    if (!s) throw new NotFoundError(`No supplier with id ${t.supplierId}`);
  }
  const prefix = randomToken(6).replace(/[-_]/g, "x").slice(0, 8);
  const token = `whub_${prefix}_${randomToken(32)}`;
  const [row] = await db
    .insert(apiTokens)
    .values({
      name: t.name,
      kind: t.kind,
      supplierId: t.supplierId ?? null,
      prefix,
      tokenHash: sha256(token),
      scopes: t.scopes,
      createdBy: actor.type === "user" ? actor.id : null,
    })
    .returning();
  await recordAudit(db, actor, {
    action: "api_token.create",
    entityType: "api_token",
    entityId: row!.id,
    after: { name: t.name, kind: t.kind, supplierId: t.supplierId ?? null, scopes: t.scopes, prefix },
  });
  return {
    token,
    principal: { tokenId: row!.id, name: row!.name, kind: row!.kind, supplierId: row!.supplierId, scopes: row!.scopes },
  };
}

export async function authenticateApiToken(db: DbOrTx, token: string): Promise<ApiPrincipal | null> {
  if (!/^whub_[A-Za-z0-9]+_[A-Za-z0-9_-]+$/.test(token)) return null;
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, sha256(token)), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  // "Last used" to the minute is enough; writing it on every request would put a
  // disk flush and a row lock in front of every API call made with this token.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(apiTokens.id, row.id));
  }
  return { tokenId: row.id, name: row.name, kind: row.kind, supplierId: row.supplierId, scopes: row.scopes };
}

export async function revokeApiToken(db: DbOrTx, tokenId: string, actor: Actor): Promise<void> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (!row) throw new NotFoundError(`No active API token with id ${tokenId}`);
  await recordAudit(db, actor, { action: "api_token.revoke", entityType: "api_token", entityId: tokenId });
}
