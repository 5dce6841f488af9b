// Connections as vendors and staff see them, and connector settings as staff edit them.
import { and, desc, eq, ne } from "drizzle-orm";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import type { DbOrTx } from "../db.server";
import { connections, connectors, suppliers } from "../../db/schema";
import { NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { CATALOG, findConnector } from "./catalog";
import type { ConnectorManifest } from "./types";
import { sandboxOAuthClient, sandboxSimulatorUrl } from "./sandbox.server";
import { fieldErrorsOf } from "../auth/users.server";

export interface ConnectionView {
  id: string;
  supplierId: string;
  supplierName?: string;
  connectorId: string;
  connectorName: string;
  status: "active" | "needs_reconnect" | "disconnected";
  accountLabel: string | null;
  scopes: string[];
  tokenExpiresAt: Date | null;
  lastRefreshedAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

function view(row: typeof connections.$inferSelect, supplierName?: string): ConnectionView {
  return {
    id: row.id,
    supplierId: row.supplierId,
    supplierName,
    connectorId: row.connectorId,
    connectorName: findConnector(row.connectorId)?.name ?? row.connectorId,
    status: row.status,
    accountLabel: row.accountLabel,
    scopes: row.scopes,
    tokenExpiresAt: row.tokenExpiresAt,
    lastRefreshedAt: row.lastRefreshedAt,
    lastError: row.lastError,
    createdAt: row.createdAt,
  };
}

/** A vendor's own connections (never another supplier's). */
export async function listSupplierConnections(db: DbOrTx, supplierId: string): Promise<ConnectionView[]> {
  const rows = await db
    .select()
    .from(connections)
    .where(and(eq(connections.supplierId, supplierId), ne(connections.status, "disconnected")))
    .orderBy(desc(connections.createdAt));
  return rows.map((r) => view(r));
}

export async function getSupplierConnection(db: DbOrTx, supplierId: string, connectionId: string): Promise<ConnectionView> {
  if (!/^[0-9a-f-]{36}$/i.test(connectionId)) throw new NotFoundError("No such connection");
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, connectionId), eq(connections.supplierId, supplierId)));
  if (!row || row.status === "disconnected") throw new NotFoundError("No such connection");
  return view(row);
}

export async function listAllConnections(db: DbOrTx): Promise<ConnectionView[]> {
  const rows = await db
    .select({ c: connections, name: suppliers.name })
    .from(connections)
    .innerJoin(suppliers, eq(suppliers.id, connections.supplierId))
    .where(ne(connections.status, "disconnected"))
    .orderBy(desc(connections.createdAt))
    .limit(500);
  return rows.map((r) => view(r.c, r.name));
}

export type ConnectorState = "configured" | "sandbox" | "missing-credentials" | "disabled" | "no-credentials-needed";

export interface ConnectorView {
  manifest: ConnectorManifest;
  state: ConnectorState;
  enabled: boolean;
  clientId: string | null;
  hasSecret: boolean;
  scopes: string[];
  activeConnections: number;
}

export async function listConnectors(ctx: HubContext): Promise<ConnectorView[]> {
  const rows = await ctx.db.select().from(connectors);
  const counts = await ctx.db.select({ connectorId: connections.connectorId, status: connections.status }).from(connections);
  return CATALOG.map((manifest) => {
    const row = rows.find((r) => r.id === manifest.id);
    const settings = (row?.settings ?? {}) as { clientId?: string; scopes?: string[] };
    const hasSecret = Boolean(row?.secretsEnc);
    const enabled = row?.enabled ?? true;
    let state: ConnectorState;
    if (!enabled) state = "disabled";
    else if (manifest.auth.kind !== "oauth2") state = "no-credentials-needed";
    else if (settings.clientId && hasSecret) state = "configured";
    else if (
      ctx.config.mode === "sandbox" &&
      manifest.simulator &&
      sandboxSimulatorUrl(ctx.config, manifest.simulator) &&
      sandboxOAuthClient(manifest.simulator)
    )
      state = "sandbox";
    else state = "missing-credentials";
    return {
      manifest,
      state,
      enabled,
      clientId: settings.clientId ?? null,
      hasSecret,
      scopes: settings.scopes?.length ? settings.scopes : manifest.auth.kind === "oauth2" ? manifest.auth.scopes : [],
      activeConnections: counts.filter((c) => c.connectorId === manifest.id && c.status !== "disconnected").length,
    };
  });
}

const settingsSchema = z.object({
  enabled: z.boolean(),
  clientId: z.string().trim().max(500).optional(),
  /** Empty keeps the stored secret. */
  clientSecret: z.string().max(2000).optional(),
  scopes: z.array(z.string().trim().min(1).max(300)).max(50).optional(),
});

/** Staff change a connector's settings; the client secret is encrypted and never shown again. */
export async function updateConnectorSettings(
  ctx: HubContext,
  connectorId: string,
  input: z.input<typeof settingsSchema>,
  actor: Actor,
): Promise<void> {
  const manifest = findConnector(connectorId);
  if (!manifest) throw new NotFoundError(`No connector "${connectorId}"`);
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError("The settings were not saved", fieldErrorsOf(parsed.error));
  const s = parsed.data;
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(connectors).where(eq(connectors.id, connectorId));
    const before = { enabled: row?.enabled ?? true, settings: row?.settings ?? {}, hasSecret: Boolean(row?.secretsEnc) };
    const settings = {
      ...(row?.settings ?? {}),
      clientId: s.clientId || undefined,
      scopes: s.scopes?.length ? s.scopes : undefined,
    };
    const secretsEnc = s.clientSecret ? ctx.vault.encryptJson({ clientSecret: s.clientSecret }) : (row?.secretsEnc ?? null);
    await tx
      .insert(connectors)
      .values({ id: connectorId, enabled: s.enabled, settings, secretsEnc })
      .onConflictDoUpdate({ target: connectors.id, set: { enabled: s.enabled, settings, secretsEnc, updatedAt: new Date() } });
    await recordAudit(tx, actor, {
      action: "connector.settings",
      entityType: "connector",
      entityId: connectorId,
      before,
      after: { enabled: s.enabled, settings, hasSecret: Boolean(secretsEnc), secretChanged: Boolean(s.clientSecret) },
    });
  });
}
