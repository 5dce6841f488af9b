// Token lifecycle: refresh before expiry (one job per connection, by job key),
// "needs reconnect" when the provider says invalid_grant, and disconnect
// (revoke where the provider supports it, then delete the secrets).
import * as oauth from "oauth4webapi";
import { cleanUpCalendarOnDisconnect } from "../calendar/disconnect.server";
import { and, eq, sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import type { DbOrTx } from "../db.server";
import { connections } from "../../db/schema";
import { NotFoundError } from "../errors";
import { enqueueJob } from "../jobs/enqueue.server";
import { recordAudit, systemActor, type Actor } from "../audit/audit.server";
import { findConnector } from "../connectors/catalog";
import { resolveOAuthProvider } from "./provider-config.server";
import { asServer, clientOf, requestOptions } from "./flow.server";

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  tokenType?: string;
}

/** Refresh this long before expiry (and treat tokens this close to expiry as due). */
export const REFRESH_AHEAD_MS = 5 * 60_000;

export const refreshJobKey = (connectionId: string) => `refresh-token:${connectionId}`;

/** Queue (or move) the connection's one refresh job. */
export async function scheduleRefresh(db: DbOrTx, connectionId: string, expiresAt: Date): Promise<void> {
  const runAt = new Date(Math.max(Date.now(), expiresAt.getTime() - REFRESH_AHEAD_MS));
  await enqueueJob(
    db,
    "refresh_connection_token",
    { connectionId },
    { jobKey: refreshJobKey(connectionId), jobKeyMode: "replace", runAt },
  );
}

export type RefreshOutcome = "refreshed" | "not-due" | "needs-reconnect" | "inactive";

/**
 * Refresh one connection's access token. The row is locked for the whole
 * exchange, so two workers racing on one connection make one refresh call:
 * the second finds the token fresh and does nothing.
 */
export async function refreshConnectionToken(
  ctx: HubContext,
  connectionId: string,
  opts: { force?: boolean } = {},
): Promise<RefreshOutcome> {
  return ctx.db.transaction(async (tx) => {
    const locked = await tx.execute(sql`select id from connections where id = ${connectionId} for update`);
    if (locked.rows.length === 0) return "inactive";
    const [c] = await tx.select().from(connections).where(eq(connections.id, connectionId));
    if (!c || c.status !== "active" || !c.credentialsEnc) return "inactive";
    if (!opts.force && c.tokenExpiresAt && c.tokenExpiresAt.getTime() - Date.now() > REFRESH_AHEAD_MS) return "not-due";

    const tokens = ctx.vault.decryptJson<StoredTokens>(c.credentialsEnc);
    if (!tokens.refreshToken) {
      await markNeedsReconnect(tx, connectionId, "The provider gave no refresh token; reconnect to keep syncing.");
      return "needs-reconnect";
    }
    const provider = await resolveOAuthProvider(ctx, c.connectorId);
    const as = asServer(provider);
    const client = clientOf(provider);
    let fresh: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(provider.clientSecret),
        tokens.refreshToken,
        requestOptions(provider),
      );
      fresh = await oauth.processRefreshTokenResponse(as, client, response);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && err.error === "invalid_grant") {
        await markNeedsReconnect(
          tx,
          connectionId,
          `${provider.name} no longer accepts this connection (invalid_grant): reconnect it.`,
        );
        return "needs-reconnect";
      }
      throw err; // network trouble or 5xx: the job retries with backoff
    }
    const stored: StoredTokens = {
      accessToken: fresh.access_token,
      // Providers that do not rotate (Google) send no new refresh token: keep the old one.
      refreshToken: fresh.refresh_token ?? tokens.refreshToken,
      tokenType: fresh.token_type,
    };
    const expiresAt = fresh.expires_in ? new Date(Date.now() + fresh.expires_in * 1000) : null;
    await tx
      .update(connections)
      .set({
        credentialsEnc: ctx.vault.encryptJson(stored),
        tokenExpiresAt: expiresAt,
        lastRefreshedAt: sql`now()`,
        lastError: null,
        updatedAt: sql`now()`,
      })
      .where(eq(connections.id, connectionId));
    if (expiresAt) await scheduleRefresh(tx, connectionId, expiresAt);
    return "refreshed";
  });
}

async function markNeedsReconnect(tx: DbOrTx, connectionId: string, reason: string): Promise<void> {
  await tx
    .update(connections)
    .set({ status: "needs_reconnect", lastError: reason, updatedAt: sql`now()` })
    .where(eq(connections.id, connectionId));
  await recordAudit(tx, systemActor("token refresh"), {
    action: "connection.needs_reconnect",
    entityType: "connection",
    entityId: connectionId,
    before: { status: "active" },
    after: { status: "needs_reconnect", reason },
  });
}

/** Disconnect a supplier's connection: revoke at the provider when it can, then delete the secrets. */
export async function disconnectConnection(
  ctx: HubContext,
  supplierId: string,
  connectionId: string,
  actor: Actor,
): Promise<{ revoked: boolean; calendarEvents?: Awaited<ReturnType<typeof cleanUpCalendarOnDisconnect>> }> {
  const [c] = await ctx.db
    .select()
    .from(connections)
    .where(and(eq(connections.id, connectionId), eq(connections.supplierId, supplierId)));
  if (!c || c.status === "disconnected") throw new NotFoundError("No such connection");
  const calendarCleanUp = await cleanUpCalendarOnDisconnect(ctx, c);
  let revoked = false;
  const manifest = findConnector(c.connectorId);
  if (manifest?.auth.kind === "oauth2" && c.credentialsEnc) {
    try {
      const provider = await resolveOAuthProvider(ctx, c.connectorId);
      if (provider.endpoints.revokeUrl) {
        const tokens = ctx.vault.decryptJson<StoredTokens>(c.credentialsEnc);
        const response = await oauth.revocationRequest(
          asServer(provider),
          clientOf(provider),
          oauth.ClientSecretPost(provider.clientSecret),
          tokens.refreshToken ?? tokens.accessToken,
          requestOptions(provider),
        );
        await oauth.processRevocationResponse(response);
        revoked = true;
      }
    } catch (err) {
      // The vendor asked to disconnect: do it locally even when the provider cannot be told.
      ctx.log.warn(
        { connectionId, err: err instanceof Error ? err.message : String(err) },
        "token revocation failed; disconnecting anyway",
      );
    }
  }
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(connections)
      .set({ status: "disconnected", credentialsEnc: null, tokenExpiresAt: null, updatedAt: sql`now()` })
      .where(eq(connections.id, connectionId));
    await tx.execute(sql`select graphile_worker.remove_job(${refreshJobKey(connectionId)})`);
    await recordAudit(tx, actor, {
      action: "connection.disconnect",
      entityType: "connection",
      entityId: connectionId,
      before: { status: c.status, accountLabel: c.accountLabel },
      after: {
        status: "disconnected",
        revokedAtProvider: revoked,
        ...(calendarCleanUp ? { calendarEvents: calendarCleanUp } : {}),
      },
    });
  });
  return { revoked, ...(calendarCleanUp ? { calendarEvents: calendarCleanUp } : {}) };
}
