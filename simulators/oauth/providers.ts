// Per-provider details of the OAuth simulators: paths, token shapes, error
// codes and wording, following each provider's public documentation.
//
// HoneyBook's API is partner-only and its OAuth server is not publicly
// documented: the "honeybook" profile is a plain RFC 6749 / RFC 7009 / RFC 6750
// authorization server at the paths the connector manifest uses.
import { randomBytes, randomUUID } from "node:crypto";
import type { Response } from "express";
import type { OAuthPaths, OAuthProvider, OAuthUserConfig, RefreshTokenRotation } from "./types.js";

/** Problems the token and revocation endpoints can report. */
export type TokenErrorKind =
  | "bad_content_type"
  | "missing_parameter"
  | "duplicate_parameter"
  | "client_id_missing"
  | "client_secret_missing"
  | "client_unknown"
  | "client_secret_wrong"
  | "client_multiple_auth"
  | "grant_type_unsupported"
  | "code_unknown"
  | "code_reused"
  | "code_expired"
  | "code_wrong_client"
  | "redirect_uri_mismatch"
  | "verifier_missing"
  | "verifier_mismatch"
  | "refresh_unknown"
  | "refresh_revoked"
  | "refresh_expired"
  | "refresh_wrong_client"
  | "scope_broader"
  | "tenant_unknown"
  | "revoke_token_invalid"
  | "revoke_token_other_client";

export interface TokenError {
  status: number;
  error: string;
  description: string;
  /** Microsoft AADSTS number, only where the public error-code list names one. */
  aadsts?: number;
}

export interface ErrorVars {
  param?: string;
  clientId?: string;
  redirectUri?: string;
  grantType?: string;
  tenant?: string;
}

/** Authorize-endpoint problems shown as an HTML page (no redirect: the redirect URI is not trusted). */
export type AuthorizePageErrorKind =
  "client_missing" | "client_unknown" | "redirect_uri_missing" | "redirect_uri_mismatch" | "tenant_unknown";

export interface AuthorizeRequestInfo {
  params: URLSearchParams;
  scopes: string[];
}

export interface ProviderProfile {
  provider: OAuthProvider;
  title: string;
  /** Express route paths (Microsoft's carry a :tenant parameter). */
  routes: { authorize: string; token: string; revoke?: string; userinfo: string };
  paths: OAuthPaths;
  /** Further paths answering like the userinfo endpoint. */
  userinfoAliases?: string[];
  defaultAccessTokenTtlSeconds: number;
  rotation: RefreshTokenRotation;
  scopeRequired: boolean;
  acceptedTenants?: readonly string[];
  /** Extra authorize parameters validated by this provider: returns an error description, or null. */
  validateAuthorizeExtras(params: URLSearchParams): string | null;
  /** Whether the code exchange also returns a refresh token. */
  issuesRefreshToken(auth: AuthorizeRequestInfo): boolean;
  newCode(): string;
  newAccessToken(): string;
  newRefreshToken(): string;
  /** Extra query parameters on the successful authorize redirect. */
  successRedirectExtras(auth: AuthorizeRequestInfo): Record<string, string>;
  /** Query parameters of the redirect when the user clicks Deny. */
  denyRedirectParams(): Record<string, string>;
  /** Whether error redirects carry error_description. */
  redirectErrorDescriptions: boolean;
  tokenError(kind: TokenErrorKind, vars: ErrorVars): TokenError;
  tokenErrorBody(err: TokenError): Record<string, unknown>;
  /** Token response, fields in the provider's order. */
  tokenResponse(t: { accessToken: string; expiresIn: number; refreshToken?: string; scopes: string[] }): Record<string, unknown>;
  authorizePageError(kind: AuthorizePageErrorKind, vars: ErrorVars): { heading: string; detail: string };
  /** Revocation endpoint: does it need client authentication, and what does an unknown token get. */
  revoke?: { clientAuth: boolean; unknownToken: "error" | "ok"; revokesGrantOnAccessToken: boolean };
  userinfo(user: OAuthUserConfig, scopes: string[]): Record<string, unknown>;
  /** Sends the 401 for a missing, unknown, expired or revoked bearer token. */
  sendUnauthorized(res: Response, reason: "missing" | "unknown" | "expired" | "revoked"): void;
}

const random = (bytes = 32): string => randomBytes(bytes).toString("base64url");

// Generic RFC 6749 wording; providers override what they word differently.
function rfcTokenError(kind: TokenErrorKind, v: ErrorVars): TokenError {
  switch (kind) {
    case "bad_content_type":
      return { status: 400, error: "invalid_request", description: "Content-Type must be application/x-www-form-urlencoded" };
    case "missing_parameter":
      return { status: 400, error: "invalid_request", description: `Missing required parameter: ${v.param}` };
    case "duplicate_parameter":
      return { status: 400, error: "invalid_request", description: `Parameter included more than once: ${v.param}` };
    case "client_id_missing":
    case "client_secret_missing":
      return { status: 401, error: "invalid_client", description: "Client authentication failed" };
    case "client_unknown":
      return { status: 401, error: "invalid_client", description: "Client authentication failed: unknown client" };
    case "client_secret_wrong":
      return { status: 401, error: "invalid_client", description: "Client authentication failed" };
    case "client_multiple_auth":
      return {
        status: 400,
        error: "invalid_request",
        description: "The request uses more than one mechanism for authenticating the client",
      };
    case "grant_type_unsupported":
      return { status: 400, error: "unsupported_grant_type", description: `Unsupported grant_type: ${v.grantType}` };
    case "code_unknown":
      return { status: 400, error: "invalid_grant", description: "The authorization code is invalid" };
    case "code_reused":
      return { status: 400, error: "invalid_grant", description: "The authorization code has already been used" };
    case "code_expired":
      return { status: 400, error: "invalid_grant", description: "The authorization code has expired" };
    case "code_wrong_client":
      return { status: 400, error: "invalid_grant", description: "The authorization code was issued to another client" };
    case "redirect_uri_mismatch":
      return {
        status: 400,
        error: "invalid_grant",
        description: "redirect_uri does not match the one used in the authorization request",
      };
    case "verifier_missing":
      return { status: 400, error: "invalid_grant", description: "Missing code_verifier (PKCE)" };
    case "verifier_mismatch":
      return { status: 400, error: "invalid_grant", description: "code_verifier does not match the code_challenge" };
    case "refresh_unknown":
      return { status: 400, error: "invalid_grant", description: "The refresh token is invalid" };
    case "refresh_revoked":
      return { status: 400, error: "invalid_grant", description: "The refresh token has been revoked" };
    case "refresh_expired":
      return { status: 400, error: "invalid_grant", description: "The refresh token has expired" };
    case "refresh_wrong_client":
      return { status: 400, error: "invalid_grant", description: "The refresh token was issued to another client" };
    case "scope_broader":
      return { status: 400, error: "invalid_scope", description: "The requested scope exceeds the scope originally granted" };
    case "tenant_unknown":
      return { status: 400, error: "invalid_request", description: `Unknown tenant '${v.tenant}'` };
    case "revoke_token_invalid":
      return { status: 400, error: "invalid_token", description: "Token expired or revoked" };
    case "revoke_token_other_client":
      return { status: 400, error: "invalid_request", description: "The token was not issued to this client" };
  }
}

function bearerChallenge(realm: string, reason: "missing" | "unknown" | "expired" | "revoked"): string {
  // RFC 6750 §3.1: no error code when the request carried no credentials.
  if (reason === "missing") return `Bearer realm="${realm}"`;
  const description = reason === "expired" ? "The access token expired" : "Invalid Credentials";
  return `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`;
}

function splitName(name: string): { given: string; family: string } {
  const parts = name.trim().split(/\s+/);
  if (parts.length < 2) return { given: name, family: "" };
  return { given: parts.slice(0, -1).join(" "), family: parts[parts.length - 1]! };
}

// ---------------------------------------------------------------------------
// Google: accounts.google.com/o/oauth2/v2/auth, oauth2.googleapis.com/token and
// /revoke, www.googleapis.com/oauth2/v3/userinfo.

const GOOGLE_EMAIL_SCOPES = new Set(["email", "https://www.googleapis.com/auth/userinfo.email"]);
const GOOGLE_PROFILE_SCOPES = new Set(["profile", "https://www.googleapis.com/auth/userinfo.profile"]);

const google: ProviderProfile = {
  provider: "google",
  title: "Google",
  routes: { authorize: "/o/oauth2/v2/auth", token: "/token", revoke: "/revoke", userinfo: "/oauth2/v3/userinfo" },
  paths: { authorize: "/o/oauth2/v2/auth", token: "/token", revoke: "/revoke", userinfo: "/oauth2/v3/userinfo" },
  // The OpenID Connect userinfo (openidconnect.googleapis.com/v1/userinfo) answers the same.
  userinfoAliases: ["/v1/userinfo"],
  defaultAccessTokenTtlSeconds: 3599,
  rotation: "none",
  scopeRequired: true,
  validateAuthorizeExtras(params) {
    const accessType = params.get("access_type");
    if (accessType !== null && accessType !== "online" && accessType !== "offline") {
      return `Invalid access_type: ${accessType}`;
    }
    const prompt = params.get("prompt");
    if (prompt !== null) {
      const allowed = new Set(["none", "consent", "select_account"]);
      const values = prompt.split(" ").filter(Boolean);
      if (values.some((p) => !allowed.has(p)) || (values.includes("none") && values.length > 1)) {
        return `Invalid prompt: ${prompt}`;
      }
    }
    return null;
  },
  // Google returns a refresh token only for access_type=offline.
  issuesRefreshToken: (auth) => auth.params.get("access_type") === "offline",
  // Google's codes contain a "/", so clients must URL-decode the callback.
  newCode: () => `4/0A${random(48)}`,
  newAccessToken: () => `ya29.a0${random(96)}`,
  newRefreshToken: () => `1//0g${random(72)}`,
  successRedirectExtras: (auth) => ({ scope: auth.scopes.join(" "), authuser: "0", prompt: "consent" }),
  denyRedirectParams: () => ({ error: "access_denied" }),
  redirectErrorDescriptions: true,
  tokenError(kind, v) {
    const base = rfcTokenError(kind, v);
    switch (kind) {
      case "client_id_missing":
        return { status: 400, error: "invalid_request", description: "Could not determine client ID from request." };
      case "client_secret_missing":
        return { status: 400, error: "invalid_request", description: "client_secret is missing." };
      case "client_unknown":
        return { status: 401, error: "invalid_client", description: "The OAuth client was not found." };
      case "client_secret_wrong":
        return { status: 401, error: "invalid_client", description: "Unauthorized" };
      case "grant_type_unsupported":
        return { ...base, description: `Invalid grant_type: ${v.grantType}` };
      case "code_unknown":
        return { ...base, description: "Malformed auth code." };
      case "code_reused":
      case "code_expired":
      case "code_wrong_client":
      case "refresh_unknown":
        return { ...base, description: "Bad Request" };
      // Google names this error after the cause instead of invalid_grant.
      case "redirect_uri_mismatch":
        return { status: 400, error: "redirect_uri_mismatch", description: "Bad Request" };
      case "verifier_missing":
        return { ...base, description: "Missing code verifier." };
      case "verifier_mismatch":
        return { ...base, description: "Invalid code verifier." };
      case "refresh_revoked":
      case "refresh_expired":
        return { ...base, description: "Token has been expired or revoked." };
      case "refresh_wrong_client":
        return { status: 400, error: "unauthorized_client", description: "Unauthorized" };
      default:
        return base;
    }
  },
  tokenErrorBody: (err) => ({ error: err.error, error_description: err.description }),
  tokenResponse: (t) => ({
    access_token: t.accessToken,
    expires_in: t.expiresIn,
    ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
    scope: t.scopes.join(" "),
    token_type: "Bearer",
  }),
  authorizePageError(kind, v) {
    switch (kind) {
      case "client_missing":
        return { heading: "Error 400: invalid_request", detail: "Missing required parameter: client_id" };
      case "client_unknown":
        return { heading: "Error 401: invalid_client", detail: `The OAuth client was not found. (client_id=${v.clientId})` };
      case "redirect_uri_missing":
        return { heading: "Error 400: invalid_request", detail: "Missing required parameter: redirect_uri" };
      case "redirect_uri_mismatch":
        return {
          heading: "Error 400: redirect_uri_mismatch",
          detail: `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${v.redirectUri}`,
        };
      case "tenant_unknown":
        return { heading: "Error 400: invalid_request", detail: "Unknown tenant" };
    }
  },
  // No client authentication on Google's revocation endpoint; an unknown token is a 400.
  revoke: { clientAuth: false, unknownToken: "error", revokesGrantOnAccessToken: true },
  userinfo(user, scopes) {
    // Fields follow the granted scopes, as Google's userinfo does.
    const body: Record<string, unknown> = { sub: user.id };
    if (scopes.some((s) => GOOGLE_PROFILE_SCOPES.has(s))) {
      const { given, family } = splitName(user.name);
      body.name = user.name;
      body.given_name = given;
      if (family) body.family_name = family;
      body.picture = user.picture ?? "https://lh3.googleusercontent.com/a/default-user=s96-c";
    }
    if (scopes.some((s) => GOOGLE_EMAIL_SCOPES.has(s))) {
      body.email = user.email;
      body.email_verified = true;
    }
    return body;
  },
  sendUnauthorized(res, reason) {
    res.set("WWW-Authenticate", bearerChallenge("https://accounts.google.com/", reason));
    res.status(401).json({ error: "invalid_token", error_description: "Invalid Credentials" });
  },
};

// ---------------------------------------------------------------------------
// Microsoft identity platform v2.0 (login.microsoftonline.com/{tenant}/oauth2/v2.0/...)
// and Microsoft Graph /v1.0/me, served from one simulator.

function microsoftErrorBody(err: TokenError): Record<string, unknown> {
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const prefix = err.aadsts !== undefined ? `AADSTS${err.aadsts}: ` : "";
  return {
    error: err.error,
    error_description: `${prefix}${err.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: err.aadsts !== undefined ? [err.aadsts] : [],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    ...(err.aadsts !== undefined ? { error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}` } : {}),
  };
}

const microsoft: ProviderProfile = {
  provider: "microsoft",
  title: "Microsoft",
  routes: {
    authorize: "/:tenant/oauth2/v2.0/authorize",
    token: "/:tenant/oauth2/v2.0/token",
    userinfo: "/v1.0/me",
  },
  paths: { authorize: "/common/oauth2/v2.0/authorize", token: "/common/oauth2/v2.0/token", userinfo: "/v1.0/me" },
  defaultAccessTokenTtlSeconds: 3599,
  rotation: "rotate",
  scopeRequired: true,
  acceptedTenants: ["common", "organizations", "consumers"],
  validateAuthorizeExtras(params) {
    const mode = params.get("response_mode");
    // Microsoft also supports fragment and form_post; the simulator answers on the query only.
    if (mode !== null && mode !== "query") return `The simulator supports response_mode=query only (got '${mode}').`;
    return null;
  },
  // Microsoft returns a refresh token only when offline_access was requested.
  issuesRefreshToken: (auth) => auth.scopes.includes("offline_access"),
  newCode: () => `1.A${random(96)}`,
  newAccessToken: () => `EwB${random(120)}`,
  newRefreshToken: () => `M.C5${random(96)}`,
  successRedirectExtras: () => ({ session_state: randomUUID() }),
  denyRedirectParams: () => ({
    error: "access_denied",
    error_subcode: "cancel",
    error_description: "AADSTS65004: User declined to consent to access the app.",
  }),
  redirectErrorDescriptions: true,
  tokenError(kind, v) {
    const base = rfcTokenError(kind, v);
    switch (kind) {
      case "bad_content_type":
        return { ...base, aadsts: 900144, description: "The request body must contain the following parameter: 'grant_type'." };
      case "missing_parameter":
        return { ...base, aadsts: 900144, description: `The request body must contain the following parameter: '${v.param}'.` };
      case "duplicate_parameter":
        return { ...base, aadsts: 9002313, description: "Invalid request. Request is malformed or invalid." };
      case "client_id_missing":
        return {
          status: 400,
          error: "invalid_request",
          aadsts: 900144,
          description: "The request body must contain the following parameter: 'client_id'.",
        };
      case "client_secret_missing":
        return {
          status: 401,
          error: "invalid_client",
          aadsts: 7000218,
          description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        };
      case "client_unknown":
        return {
          status: 400,
          error: "unauthorized_client",
          aadsts: 700016,
          description: `Application with identifier '${v.clientId}' was not found in the directory 'common'.`,
        };
      case "client_secret_wrong":
        return {
          status: 401,
          error: "invalid_client",
          aadsts: 7000215,
          description:
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        };
      case "grant_type_unsupported":
        return { ...base, aadsts: 70003, description: "The app requested an unsupported grant type." };
      case "code_unknown":
      case "code_wrong_client":
        return { ...base, aadsts: 70000, description: "The provided value for the 'code' parameter is not valid." };
      case "code_reused":
        return {
          ...base,
          aadsts: 54005,
          description:
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        };
      case "code_expired":
        return {
          ...base,
          aadsts: 70008,
          description: "The provided authorization code or refresh token has expired due to inactivity.",
        };
      case "redirect_uri_mismatch":
        return {
          ...base,
          description: "The redirect_uri does not match the redirect URI used to obtain the authorization code.",
        };
      case "verifier_missing":
      case "verifier_mismatch":
        return {
          ...base,
          aadsts: 501481,
          description: "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        };
      case "refresh_unknown":
      case "refresh_wrong_client":
        return { ...base, aadsts: 9002313, description: "Invalid request. Request is malformed or invalid." };
      case "refresh_revoked":
        return {
          ...base,
          aadsts: 50173,
          description: "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
        };
      case "refresh_expired":
        return { ...base, aadsts: 700082, description: "The refresh token has expired due to inactivity." };
      case "scope_broader":
        return { ...base, aadsts: 70011, description: "The provided value for the input parameter 'scope' is not valid." };
      case "tenant_unknown":
        return { ...base, aadsts: 90002, description: `Tenant '${v.tenant}' not found.` };
      default:
        return base;
    }
  },
  tokenErrorBody: microsoftErrorBody,
  tokenResponse: (t) => ({
    token_type: "Bearer",
    scope: t.scopes.join(" "),
    expires_in: t.expiresIn,
    ext_expires_in: t.expiresIn,
    access_token: t.accessToken,
    ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
  }),
  authorizePageError(kind, v) {
    switch (kind) {
      case "client_missing":
        return {
          heading: "AADSTS900144",
          detail: "The request body must contain the following parameter: 'client_id'.",
        };
      case "client_unknown":
        return {
          heading: "AADSTS700016",
          detail: `Application with identifier '${v.clientId}' was not found in the directory 'common'.`,
        };
      case "redirect_uri_missing":
        return { heading: "AADSTS900144", detail: "The request body must contain the following parameter: 'redirect_uri'." };
      case "redirect_uri_mismatch":
        return {
          heading: "AADSTS50011",
          detail: `The redirect URI '${v.redirectUri}' specified in the request does not match the redirect URIs configured for the application '${v.clientId}'.`,
        };
      case "tenant_unknown":
        return { heading: "AADSTS90002", detail: `Tenant '${v.tenant}' not found.` };
    }
  },
  // Microsoft has no revocation endpoint for authorization-code tokens.
  revoke: undefined,
  userinfo(user) {
    const { given, family } = splitName(user.name);
    return {
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
      businessPhones: [],
      displayName: user.name,
      givenName: given,
      jobTitle: null,
      mail: user.email,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: family || null,
      userPrincipalName: user.email,
      id: user.id,
    };
  },
  sendUnauthorized(res, reason) {
    const message =
      reason === "missing"
        ? "Access token is empty."
        : reason === "expired"
          ? "Lifetime validation failed, the token is expired."
          : "Access token validation failure. Invalid audience.";
    const requestId = randomUUID();
    res.set(
      "WWW-Authenticate",
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    );
    res.set("request-id", requestId);
    res.status(401).json({
      error: {
        code: "InvalidAuthenticationToken",
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ""),
          "request-id": requestId,
          "client-request-id": requestId,
        },
      },
    });
  },
};

// ---------------------------------------------------------------------------
// HoneyBook: partner-only API, so this is a standard OAuth 2.0 server
// (RFC 6749 errors, RFC 7009 revocation, RFC 6750 bearer errors).

const honeybook: ProviderProfile = {
  provider: "honeybook",
  title: "HoneyBook",
  routes: { authorize: "/oauth/authorize", token: "/oauth/token", revoke: "/oauth/revoke", userinfo: "/api/v2/users/me" },
  paths: { authorize: "/oauth/authorize", token: "/oauth/token", revoke: "/oauth/revoke", userinfo: "/api/v2/users/me" },
  defaultAccessTokenTtlSeconds: 7200,
  rotation: "rotate-revoke-old",
  scopeRequired: false,
  validateAuthorizeExtras: () => null,
  issuesRefreshToken: () => true,
  newCode: () => random(32),
  newAccessToken: () => random(32),
  newRefreshToken: () => random(32),
  successRedirectExtras: () => ({}),
  denyRedirectParams: () => ({
    error: "access_denied",
    error_description: "The resource owner or authorization server denied the request.",
  }),
  redirectErrorDescriptions: true,
  tokenError: rfcTokenError,
  tokenErrorBody: (err) => ({ error: err.error, error_description: err.description }),
  tokenResponse: (t) => ({
    access_token: t.accessToken,
    token_type: "Bearer",
    expires_in: t.expiresIn,
    ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
    scope: t.scopes.join(" "),
  }),
  authorizePageError(kind, v) {
    switch (kind) {
      case "client_missing":
        return { heading: "invalid_request", detail: "Missing required parameter: client_id" };
      case "client_unknown":
        return { heading: "invalid_client", detail: `Unknown client_id: ${v.clientId}` };
      case "redirect_uri_missing":
        return { heading: "invalid_request", detail: "Missing required parameter: redirect_uri" };
      case "redirect_uri_mismatch":
        return { heading: "invalid_request", detail: `redirect_uri is not registered for this client: ${v.redirectUri}` };
      case "tenant_unknown":
        return { heading: "invalid_request", detail: "Unknown tenant" };
    }
  },
  // RFC 7009: confidential clients authenticate; an unknown or already-invalid token still answers 200.
  revoke: { clientAuth: true, unknownToken: "ok", revokesGrantOnAccessToken: false },
  userinfo: (user) => ({
    _id: user.id,
    email: user.email,
    full_name: user.name,
    company_name: user.companyName ?? null,
  }),
  sendUnauthorized(res, reason) {
    res.set("WWW-Authenticate", bearerChallenge("HoneyBook", reason));
    const description =
      reason === "missing"
        ? "Missing access token"
        : reason === "expired"
          ? "The access token expired"
          : "The access token is invalid";
    res.status(401).json({ error: "invalid_token", error_description: description });
  },
};

export const PROVIDER_PROFILES: Readonly<Record<OAuthProvider, ProviderProfile>> = { google, microsoft, honeybook };
