// Connecting with a key or a password (Tave, 17hats, LightBlue, Apple/CalDAV,
// messaging providers): the form's values are validated, tested against the
// provider, and only then stored, encrypted, as a connection.
import { and, eq, sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { connections } from "../../db/schema";
import { NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { findConnector } from "./catalog";
import { testAppleCalendar } from "./apple-calendar/test.server";
import { testTave } from "./tave/test.server";
import { testSeventeenHats } from "./seventeen-hats/test.server";
import { testLightBlue } from "./lightblue/test.server";

/**
 * Tests values against the provider. `ctx` tells a test where the provider is (PROVIDER_API_ROOTS,
 * connector settings, the sandbox's simulators); tests that need it and do not get it say so.
 */
export type CredentialTest = (
  values: Record<string, string>,
  ctx?: HubContext,
) => Promise<{ ok: boolean; message: string; accountLabel?: string }>;

/** Connectors whose credentials can be tested. Others get theirs with their connector's issue. */
const TESTS: Record<string, CredentialTest> = {
  "apple-calendar": testAppleCalendar,
  tave: testTave,
  "seventeen-hats": testSeventeenHats,
  lightblue: testLightBlue,
};

export function canTestCredentials(connectorId: string): boolean {
  return connectorId in TESTS;
}

function fieldsOf(connectorId: string) {
  const manifest = findConnector(connectorId);
  if (!manifest || manifest.auth.kind === "oauth2" || manifest.auth.kind === "none")
    throw new NotFoundError(`No key or password connector "${connectorId}"`);
  return { manifest, fields: manifest.auth.fields };
}

function validate(connectorId: string, raw: Record<string, string>): Record<string, string> {
  const { fields } = fieldsOf(connectorId);
  const errors: Record<string, string[]> = {};
  const values: Record<string, string> = {};
  for (const f of fields) {
    const v = (raw[f.name] ?? "").trim();
    if (!v) errors[f.name] = [`${f.label} is required`];
    else if (v.length > 2000) errors[f.name] = [`${f.label} is too long`];
    else if (f.name === "serverUrl" && !/^https?:\/\/[^\s]+$/.test(v))
      errors[f.name] = ["must be a URL like https://caldav.icloud.com"];
    else values[f.name] = v;
  }
  if (Object.keys(errors).length) throw new ValidationError("Some fields need attention; nothing was saved.", errors);
  return values;
}

export async function testCredentials(
  connectorId: string,
  raw: Record<string, string>,
  ctx?: HubContext,
): Promise<{ ok: boolean; message: string; accountLabel?: string }> {
  const values = validate(connectorId, raw);
  const test = TESTS[connectorId];
  if (!test) return { ok: false, message: "This connector cannot be tested yet, so it cannot be connected yet." };
  return test(values, ctx);
}

/** Test, then store (encrypted). A failed test saves nothing. */
export async function connectWithCredentials(
  ctx: HubContext,
  input: { supplierId: string; connectorId: string; values: Record<string, string>; actor: Actor },
): Promise<{ ok: true; connectionId: string; accountLabel: string } | { ok: false; message: string }> {
  const result = await testCredentials(input.connectorId, input.values, ctx);
  if (!result.ok) return { ok: false, message: result.message };
  const values = validate(input.connectorId, input.values);
  const accountLabel = result.accountLabel ?? input.connectorId;
  const connectionId = await ctx.db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(connections)
      .where(
        and(
          eq(connections.supplierId, input.supplierId),
          eq(connections.connectorId, input.connectorId),
          eq(connections.accountId, accountLabel),
        ),
      );
    const set = {
      status: "active" as const,
      accountId: accountLabel,
      accountLabel,
      scopes: [],
      credentialsEnc: ctx.vault.encryptJson(values),
      lastError: null,
      updatedAt: sql`now()`,
    };
    const [row] = existing
      ? await tx.update(connections).set(set).where(eq(connections.id, existing.id)).returning()
      : await tx
          .insert(connections)
          .values({ ...set, updatedAt: new Date(), supplierId: input.supplierId, connectorId: input.connectorId })
          .returning();
    await recordAudit(tx, input.actor, {
      action: existing ? "connection.reconnect" : "connection.create",
      entityType: "connection",
      entityId: row!.id,
      after: { connector: input.connectorId, accountLabel },
    });
    return row!.id;
  });
  return { ok: true, connectionId, accountLabel };
}
