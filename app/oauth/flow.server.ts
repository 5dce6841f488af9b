// A vendor connects an account: OAuth 2.0 authorization code with PKCE (S256)
// and a single-use, expiring state bound to the vendor's session. The token
// exchange uses oauth4webapi (a standards-strict client); tokens are stored
// encrypted; a refresh job is queued with the connection, in one transaction.
import * as oauth from "oauth4webapi";
import { and, eq, sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { connections, oauthStates } from "../../db/schema";
import { randomToken, sha256 } from "../crypto/secrets.server";
import { BadRequestError, ProviderUnavailableError } from "../errors";
import { recordAudit } from "../audit/audit.server";
import { resolveOAuthProvider, type OAuthProvider } from "./provider-config.server";
import { scheduleRefresh, type StoredTokens } from "./tokens.server";

export const STATE_TTL_MINUTES = 10;

export function asServer(p: OAuthProvider): oauth.AuthorizationServer {
  return {
    issuer: p.issuer,
    authorization_endpoint: p.endpoints.authorizeUrl,
    token_endpoint: p.endpoints.tokenUrl,
    revocation_endpoint: p.endpoints.revokeUrl,
    userinfo_endpoint: p.endpoints.userinfoUrl,
  };
}

export const clientOf = (p: OAuthProvider): oauth.Client => ({ client_id: p.clientId });
export const requestOptions = (p: OAuthProvider) => ({
  [oauth.allowInsecureRequests]: p.allowHttp,
  signal: AbortSignal.timeout(15_000),
});

export function redirectUriFor(ctx: HubContext, connectorId: string): string {
  return `${ctx.publicUrl()}/oauth/callback/${connectorId}`;
}

export async function beginAuthorization(
  ctx: HubContext,
  input: { userId: string; supplierId: string; sessionHash: string; connectorId: string; connectionId?: string },
): Promise<string> {
  const provider = await resolveOAuthProvider(ctx, input.connectorId);
  const state = randomToken(32);
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const redirectUri = redirectUriFor(ctx, input.connectorId);
  await ctx.db.insert(oauthStates).values({
    stateHash: sha256(state),
    sessionHash: input.sessionHash,
    userId: input.userId,
    supplierId: input.supplierId,
    connectorId: input.connectorId,
    connectionId: input.connectionId ?? null,
    codeVerifierEnc: ctx.vault.encrypt(verifier),
    redirectUri,
    expiresAt: new Date(Date.now() + STATE_TTL_MINUTES * 60_000),
  });
  const url = new URL(provider.endpoints.authorizeUrl);
  const params = {
    response_type: "code",
    client_id: provider.clientId,
    redirect_uri: redirectUri,
    scope: provider.scopes.join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...provider.authorizeParams,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

export interface CompletedConnection {
  connectionId: string;
  accountLabel: string;
  scopes: string[];
}

/** Handle the provider's redirect back. Every refusal is a 400 with a message, and stores nothing. */
export async function completeAuthorization(
  ctx: HubContext,
  input: { sessionHash: string | null; connectorId: string; params: URLSearchParams },
): Promise<CompletedConnection> {
  const state = input.params.get("state");
  if (!state) throw new BadRequestError("This sign-in response has no state. Start again from Connections.");
  const pending = await consumeState(ctx, sha256(state), input.sessionHash, input.connectorId);
  const provider = await resolveOAuthProvider(ctx, input.connectorId);

  const denied = input.params.get("error");
  if (denied) {
    throw new BadRequestError(
      denied === "access_denied"
        ? `You declined access at ${provider.name}; nothing was connected. Try again if that was a mistake.`
        : `${provider.name} refused the sign-in (${denied}${input.params.get("error_description") ? `: ${input.params.get("error_description")}` : ""}). Start again from Connections.`,
    );
  }

  const as = asServer(provider);
  const client = clientOf(provider);
  let tokens: oauth.TokenEndpointResponse;
  try {
    const callback = oauth.validateAuthResponse(as, client, input.params, oauth.skipStateCheck);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(provider.clientSecret),
      callback,
      pending.redirectUri,
      ctx.vault.decrypt(pending.codeVerifierEnc),
      requestOptions(provider),
    );
    tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  } catch (err) {
    throw exchangeError(provider, err);
  }

  const identity = await fetchIdentity(provider, tokens.access_token);
  const granted = tokens.scope ? tokens.scope.split(" ").filter(Boolean) : provider.scopes;
  const stored: StoredTokens = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    tokenType: tokens.token_type,
  };
  const expiresAt = tokens.expires_in ? new Date(Date.now() + tokens.expires_in * 1000) : null;

  return ctx.db.transaction(async (tx) => {
    const existing = pending.connectionId
      ? await tx
          .select()
          .from(connections)
          .where(and(eq(connections.id, pending.connectionId), eq(connections.supplierId, pending.supplierId)))
      : await tx
          .select()
          .from(connections)
          .where(
            and(
              eq(connections.supplierId, pending.supplierId),
              eq(connections.connectorId, input.connectorId),
              eq(connections.accountId, identity.id),
            ),
          );
    const values = {
      status: "active" as const,
      accountId: identity.id,
      accountLabel: identity.label,
      scopes: granted,
      credentialsEnc: ctx.vault.encryptJson(stored),
      tokenExpiresAt: expiresAt,
      lastRefreshedAt: null,
      lastError: null,
      updatedAt: new Date(),
    };
    const [row] = existing[0]
      ? await tx.update(connections).set(values).where(eq(connections.id, existing[0].id)).returning()
      : await tx
          .insert(connections)
          .values({ ...values, supplierId: pending.supplierId, connectorId: input.connectorId })
          .returning();
    if (expiresAt && stored.refreshToken) await scheduleRefresh(tx, row!.id, expiresAt);
    await recordAudit(
      tx,
      { type: "user", id: pending.userId, label: `vendor user ${pending.userId}` },
      {
        action: existing[0] ? "connection.reconnect" : "connection.create",
        entityType: "connection",
        entityId: row!.id,
        before: existing[0] ? { status: existing[0].status, accountLabel: existing[0].accountLabel } : null,
        after: { connector: input.connectorId, accountLabel: identity.label, scopes: granted },
      },
    );
    return { connectionId: row!.id, accountLabel: identity.label, scopes: granted };
  });
}

type PendingState = typeof oauthStates.$inferSelect;

/** Mark the state used, atomically, only if it is unused, unexpired and this session's. */
async function consumeState(
  ctx: HubContext,
  stateHash: string,
  sessionHash: string | null,
  connectorId: string,
): Promise<PendingState> {
  const [row] = await ctx.db
    .update(oauthStates)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(oauthStates.stateHash, stateHash),
        sql`${oauthStates.usedAt} is null`,
        sql`${oauthStates.expiresAt} > now()`,
        eq(oauthStates.sessionHash, sessionHash ?? "-"),
        eq(oauthStates.connectorId, connectorId),
      ),
    )
    .returning();
  if (row) return row;
  const [seen] = await ctx.db.select().from(oauthStates).where(eq(oauthStates.stateHash, stateHash));
  if (!seen)
    throw new BadRequestError("This sign-in response does not match any connection we started. Start again from Connections.");
  if (seen.usedAt) throw new BadRequestError("This sign-in response was already used. Start again from Connections.");
  if (seen.expiresAt.getTime() <= Date.now())
    throw new BadRequestError(
      `This sign-in took longer than ${STATE_TTL_MINUTES} minutes and expired. Start again from Connections.`,
    );
  throw new BadRequestError("This sign-in was started in another browser session. Start again from Connections in this browser.");
}

function exchangeError(provider: OAuthProvider, err: unknown): Error {
  if (err instanceof oauth.ResponseBodyError) {
    return new BadRequestError(
      `${provider.name} did not accept the sign-in (${err.error}${err.error_description ? `: ${err.error_description}` : ""}). Start again from Connections; if it keeps failing, ask the hub's staff to check the ${provider.name} connector settings.`,
    );
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return new BadRequestError(`${provider.name} refused the sign-in (${err.error}). Start again from Connections.`);
  }
  return new ProviderUnavailableError(
    `${provider.name} could not be reached to finish the sign-in. Try again in a minute.`,
    provider.connectorId,
  );
}

function pick(obj: unknown, paths: string[]): string | null {
  for (const p of paths) {
    let v: unknown = obj;
    for (const k of p.split(".")) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v === "string" && v) return v;
    if (typeof v === "number") return String(v);
  }
  return null;
}

async function fetchIdentity(provider: OAuthProvider, accessToken: string): Promise<{ id: string; label: string }> {
  let body: unknown;
  try {
    const res = await fetch(provider.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`userinfo answered ${res.status}`);
    body = await res.json();
  } catch {
    throw new ProviderUnavailableError(
      `${provider.name} did not tell us which account was connected. Try again in a minute.`,
      provider.connectorId,
    );
  }
  const id = pick(body, provider.identity.id);
  if (!id) throw new ProviderUnavailableError(`${provider.name} returned an account without an id.`, provider.connectorId);
  return { id, label: pick(body, provider.identity.label) ?? id };
}
