// A strict, real OAuth 2.0 / OpenID Connect authorization server (panva's
// oidc-provider) standing in for a provider, to prove the hub's OAuth code
// path: PKCE required, single-use codes, refresh tokens rotated (reusing a
// rotated one revokes the grant). Login and consent are granted automatically.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration } from "oidc-provider";

export interface OidcServer {
  issuer: string;
  provider: Provider;
  /** Token endpoint calls by grant type. */
  grants: Record<string, number>;
  close(): Promise<void>;
}

export async function startOidcServer(client: {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}): Promise<OidcServer> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const account = { accountId: "acct-ana", claims: { sub: "acct-ana", email: "ana@oidc.example", name: "Ana Vendor" } };

  const configuration: Configuration = {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: client.redirectUris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    pkce: { required: () => true },
    scopes: ["openid", "offline_access", "email", "profile", "calendar"],
    claims: { email: ["email"], profile: ["name"] },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true }, userinfo: { enabled: true } },
    rotateRefreshToken: true,
    findAccount: async (_ctx, sub) =>
      sub === account.accountId ? { accountId: sub, claims: async () => account.claims } : undefined,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      RefreshToken: 86400 * 30,
      Grant: 86400 * 30,
      Interaction: 600,
      Session: 3600,
    },
  };
  const provider = new Provider(issuer, configuration);
  const grants: Record<string, number> = {};
  provider.on("grant.success", (ctx) => {
    const type = String((ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type ?? "unknown");
    grants[type] = (grants[type] ?? 0) + 1;
  });

  const callback = provider.callback();
  server.on("request", (req, res) => {
    const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? "");
    if (!match) return callback(req, res);
    // Auto-login and auto-consent: what a person clicking "Allow" would do.
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === "login") {
          return provider.interactionFinished(
            req,
            res,
            { login: { accountId: account.accountId } },
            { mergeWithLastSubmission: false },
          );
        }
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: account.accountId, clientId: String(details.params.client_id) });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(" "));
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
          grant!.addResourceScope(indicator, scopes.join(" "));
        const grantId = await grant!.save();
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      } catch (err) {
        res.statusCode = 500;
        res.end(String(err));
      }
    })();
  });

  return {
    issuer,
    provider,
    grants,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
