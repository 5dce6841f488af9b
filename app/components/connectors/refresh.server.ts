// "Refresh token now" on the console's Connections page: a forced refresh of one
// connection's access token, recorded in the audit log, with an outcome a
// person can act on (never a stack trace or a token).
import * as oauth from "oauth4webapi";
import { eq } from "drizzle-orm";
import type { HubContext } from "~/runtime/context.server";
import type { Actor } from "~/audit/audit.server";
import { recordAudit } from "~/audit/audit.server";
import { findConnector } from "~/connectors/catalog";
import { refreshConnectionToken, type RefreshOutcome } from "~/oauth/tokens.server";
import { DomainError } from "~/errors";
import { connections, suppliers } from "../../../db/schema";
import { formatWhen } from "./labels";
import type { RefreshResult } from "./types";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function describe(ctx: HubContext, connectionId: string) {
  const [row] = await ctx.db
    .select({
      connectorId: connections.connectorId,
      status: connections.status,
      accountLabel: connections.accountLabel,
      tokenExpiresAt: connections.tokenExpiresAt,
      lastError: connections.lastError,
      supplierName: suppliers.name,
    })
    .from(connections)
    .innerJoin(suppliers, eq(suppliers.id, connections.supplierId))
    .where(eq(connections.id, connectionId));
  return row;
}

/** Forces a refresh; answers the HTTP status for the page and what to tell the staff member. */
export async function refreshNow(
  ctx: HubContext,
  connectionId: string,
  actor: Actor,
): Promise<{ status: number; result: RefreshResult }> {
  if (!UUID.test(connectionId)) {
    return {
      status: 404,
      result: { connectionId: null, tone: "error", message: "There is no such connection. Reload the page." },
    };
  }
  const before = await describe(ctx, connectionId);
  if (!before || before.status === "disconnected") {
    return {
      status: 404,
      result: { connectionId, tone: "error", message: "That connection no longer exists (the vendor disconnected it)." },
    };
  }
  const name = findConnector(before.connectorId)?.name ?? before.connectorId;
  const what = `${before.supplierName}'s ${name} connection${before.accountLabel ? ` (${before.accountLabel})` : ""}`;

  let outcome: RefreshOutcome;
  try {
    outcome = await refreshConnectionToken(ctx, connectionId, { force: true });
  } catch (err) {
    const reason = failureReason(err);
    ctx.log.warn({ connectionId, err: err instanceof Error ? err.message : String(err) }, "manual token refresh failed");
    await recordAudit(ctx.db, actor, {
      action: "connection.refresh",
      entityType: "connection",
      entityId: connectionId,
      after: { outcome: "failed", reason },
    });
    return {
      status: 502,
      result: {
        connectionId,
        tone: "error",
        message: `Refreshing ${what} failed: ${reason} Nothing changed; the scheduled refresh will retry.`,
      },
    };
  }
  await recordAudit(ctx.db, actor, {
    action: "connection.refresh",
    entityType: "connection",
    entityId: connectionId,
    after: { outcome },
  });

  const after = await describe(ctx, connectionId);
  switch (outcome) {
    case "refreshed":
      return {
        status: 200,
        result: {
          connectionId,
          tone: "ok",
          message: `Token refreshed for ${what}. ${
            after?.tokenExpiresAt
              ? `The new token expires at ${formatWhen(after.tokenExpiresAt)}.`
              : "The new token has no expiry."
          }`,
        },
      };
    case "not-due":
      return { status: 200, result: { connectionId, tone: "ok", message: `The token of ${what} is not due for refresh.` } };
    case "needs-reconnect":
      return {
        status: 200,
        result: {
          connectionId,
          tone: "warn",
          message: `${name} no longer accepts ${what}: it now needs reconnecting by the vendor. ${after?.lastError ?? ""}`.trim(),
        },
      };
    case "inactive":
      return {
        status: 409,
        result: {
          connectionId,
          tone: "warn",
          message: `${what} is not active (it needs reconnecting or holds no tokens), so there was nothing to refresh.`,
        },
      };
  }
}

function failureReason(err: unknown): string {
  if (err instanceof DomainError) return err.message;
  if (err instanceof oauth.ResponseBodyError) {
    return `the provider answered ${err.status} ${err.error}${err.error_description ? ` (${err.error_description})` : ""}.`;
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))
    return "the provider did not answer in time.";
  if (err instanceof TypeError) return "the provider could not be reached.";
  return "the provider's answer could not be used.";
}
