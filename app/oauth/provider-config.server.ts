// Where a connector's OAuth client lives: staff settings in the database
// (client id in settings, secret encrypted), or, in the sandbox, the
// provider simulator with its sandbox client. Endpoints are configuration:
// the same code path serves every provider.
import { eq } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { connectors } from "../../db/schema";
import { findConnector } from "../connectors/catalog";
import type { IdentityPaths, OAuthEndpoints } from "../connectors/types";
import { NotFoundError, ProviderUnavailableError } from "../errors";
import { sandboxSimulatorUrl, sandboxOAuthClient } from "../connectors/sandbox.server";

export interface OAuthProvider {
  connectorId: string;
  name: string;
  clientId: string;
  clientSecret: string;
  endpoints: OAuthEndpoints;
  /** The authorization server's issuer (checked on id_tokens). */
  issuer: string;
  scopes: string[];
  authorizeParams: Record<string, string>;
  identity: IdentityPaths;
  /** http:// endpoints are allowed only for simulators and tests. */
  allowHttp: boolean;
  origin: "settings" | "sandbox";
}

export interface OAuthSettings {
  clientId?: string;
  scopes?: string[];
  endpoints?: Partial<OAuthEndpoints>;
  issuer?: string;
}

export async function resolveOAuthProvider(ctx: HubContext, connectorId: string): Promise<OAuthProvider> {
  const manifest = findConnector(connectorId);
  if (!manifest) throw new NotFoundError(`No connector "${connectorId}"`);
  if (manifest.auth.kind !== "oauth2") throw new NotFoundError(`${manifest.name} does not connect with OAuth`);
  const auth = manifest.auth;
  const [row] = await ctx.db.select().from(connectors).where(eq(connectors.id, connectorId));
  const settings = (row?.settings ?? {}) as OAuthSettings;
  const secrets = row?.secretsEnc ? ctx.vault.decryptJson<{ clientSecret?: string }>(row.secretsEnc) : {};

  if (row && !row.enabled)
    throw new ProviderUnavailableError(`${manifest.name} is switched off by the hub's staff.`, connectorId);

  if (settings.clientId && secrets.clientSecret) {
    const endpoints = { ...auth.endpoints, ...settings.endpoints };
    return {
      connectorId,
      name: manifest.name,
      clientId: settings.clientId,
      clientSecret: secrets.clientSecret,
      endpoints,
      issuer: settings.issuer ?? new URL(endpoints.authorizeUrl).origin,
      scopes: settings.scopes?.length ? settings.scopes : auth.scopes,
      authorizeParams: auth.authorizeParams ?? {},
      identity: auth.identity,
      allowHttp: ctx.config.mode === "sandbox",
      origin: "settings",
    };
  }

  if (ctx.config.mode === "sandbox" && manifest.simulator) {
    const base = sandboxSimulatorUrl(ctx.config, manifest.simulator);
    const client = sandboxOAuthClient(manifest.simulator);
    if (base && client) {
      const p = auth.simulatorPaths;
      return {
        connectorId,
        name: manifest.name,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        endpoints: {
          authorizeUrl: base + p.authorizeUrl,
          tokenUrl: base + p.tokenUrl,
          revokeUrl: p.revokeUrl ? base + p.revokeUrl : undefined,
          userinfoUrl: base + p.userinfoUrl,
        },
        issuer: base,
        scopes: auth.scopes,
        authorizeParams: auth.authorizeParams ?? {},
        identity: auth.identity,
        allowHttp: true,
        origin: "sandbox",
      };
    }
  }
  throw new ProviderUnavailableError(
    `${manifest.name} is not set up yet: an admin must enter its OAuth client id and secret under Connectors in the console.`,
    connectorId,
  );
}
