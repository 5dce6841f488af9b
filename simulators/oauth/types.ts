// Public types of the OAuth 2.0 authorization-server simulators.

export type OAuthProvider = "google" | "microsoft" | "honeybook";

export const OAUTH_PROVIDERS: readonly OAuthProvider[] = ["google", "microsoft", "honeybook"];

export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
  /** Exact-match list (scheme, host, port, path and query must all match). */
  redirectUris: readonly string[];
  /** Shown on the consent page; defaults to the client id. */
  name?: string;
}

export interface OAuthUserConfig {
  /** Google `sub`, Graph `id`, HoneyBook `_id`. */
  id: string;
  email: string;
  name: string;
  /** HoneyBook `company_name`. */
  companyName?: string;
  /** Google `picture`. */
  picture?: string;
}

/**
 * What a refresh does to refresh tokens:
 * - "none": no new refresh token is returned; the old one keeps working (Google).
 * - "rotate": a new refresh token every time; older ones stay valid (Microsoft).
 * - "rotate-revoke-old": a new refresh token every time; the one just used stops working (OAuth 2.1 style; HoneyBook default).
 */
export type RefreshTokenRotation = "none" | "rotate" | "rotate-revoke-old";

export interface OAuthSimulatorOptions {
  clients: readonly OAuthClientConfig[];
  /** Accounts offered on the consent page; the first is preselected. Defaults to one "Sandbox User". */
  users?: readonly OAuthUserConfig[];
  /** Lifetime of new access tokens (`expires_in`). Defaults: Google/Microsoft 3599, HoneyBook 7200. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of authorization codes. Default 60. */
  authorizationCodeTtlSeconds?: number;
  /** Overrides the provider's refresh-token behaviour (see RefreshTokenRotation). */
  refreshTokenRotation?: RefreshTokenRotation;
  /** Clock in epoch milliseconds (default Date.now); advanceClock() adds to it. */
  now?: () => number;
  /** Simulator name (harness/registry); defaults to the provider id. */
  name?: string;
}

/** Endpoint paths relative to the simulator's base URL (Microsoft with tenant "common"). */
export interface OAuthPaths {
  authorize: string;
  token: string;
  /** Absent for Microsoft (no revocation endpoint). */
  revoke?: string;
  userinfo: string;
}

export interface OAuthCounters {
  /** GET requests to the authorize endpoint (valid or not). */
  authorizeRequests: number;
  /** Consent-page decisions. */
  consents: { allowed: number; denied: number };
  /** Token-endpoint requests by the grant_type sent, including ones answered with an error. */
  tokenRequests: { authorization_code: number; refresh_token: number; other: number };
  /** Token-endpoint requests answered with an error. */
  tokenErrors: number;
  /** Tokens handed out by the token endpoint. */
  tokensIssued: { access: number; refresh: number };
  /** Requests to the revocation endpoint (valid or not). */
  revocationRequests: number;
  /** Live tokens actually revoked through the revocation endpoint. */
  revocations: number;
  /** Requests to the userinfo / me endpoint (valid or not). */
  userinfoRequests: number;
}

/** Selects tokens; every given field must match, an empty filter selects all. */
export interface OAuthTokenFilter {
  token?: string;
  clientId?: string;
  userId?: string;
}

export type RefreshTokenStatus = "active" | "revoked" | "expired" | "superseded";

export interface OAuthGrantSnapshot {
  grantId: string;
  clientId: string;
  userId: string;
  scopes: string[];
  createdAt: string;
  revoked: boolean;
  refreshTokens: { token: string; status: RefreshTokenStatus }[];
  accessTokens: { token: string; expiresAt: string; status: "active" | "revoked" | "expired" }[];
}

export type AccessTokenCheck =
  | { ok: true; clientId: string; userId: string; user: OAuthUserConfig; scopes: string[]; expiresAt: number }
  | { ok: false; reason: "unknown" | "expired" | "revoked" };

export interface OAuthSimulatorSettings {
  provider: OAuthProvider;
  accessTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  refreshTokenRotation: RefreshTokenRotation;
  clockOffsetSeconds: number;
}

/** Programmatic control of one OAuth simulator definition (its state is shared by every server started from it). */
export interface OAuthSimulatorControl {
  readonly provider: OAuthProvider;
  readonly paths: OAuthPaths;
  /** The endpoint paths made absolute against a running simulator's url. */
  endpoints(baseUrl: string): OAuthPaths;
  counters(): OAuthCounters;
  resetCounters(): void;
  settings(): OAuthSimulatorSettings;
  grants(): OAuthGrantSnapshot[];
  /**
   * Revokes whole grants, as a user removing the app's access would: the next refresh answers invalid_grant and the
   * grant's access tokens stop working. filter.token may be a refresh or an access token of the grant. Returns the
   * number of grants revoked.
   */
  revokeGrants(filter?: OAuthTokenFilter): number;
  /** Expires the matching refresh tokens only (next refresh answers invalid_grant); access tokens live on until their own expiry. Returns how many changed. */
  expireRefreshTokens(filter?: OAuthTokenFilter): number;
  /** Expires the matching access tokens now (userinfo/me answers 401). Returns how many changed. */
  expireAccessTokens(filter?: OAuthTokenFilter): number;
  /** TTL of access tokens issued from now on (whole seconds, 1..86400). */
  setAccessTokenTtl(seconds: number): void;
  /** Moves the simulator's clock forward (expires codes and tokens without waiting). Returns the total offset in seconds. */
  advanceClock(seconds: number): number;
  /** For API simulators sharing this server: checks a bearer access token. */
  checkAccessToken(token: string): AccessTokenCheck;
  /** Drops every code, token and grant; resets counters, TTL and clock offset to the configured values. */
  reset(): void;
}
