// One OAuth 2.0 authorization-server simulator (authorization code + PKCE S256,
// refresh, revocation, userinfo), configured per provider by providers.ts.
// Strict like a real server: exact redirect URIs, single-use 60 s codes bound
// to client and redirect URI, PKCE verification, client authentication by
// client_secret_post or HTTP Basic, opaque expiring tokens.
import express from "express";
import type { NextFunction, Request, Response, Router } from "express";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { consentPage, errorPage } from "./html.js";
import { PROVIDER_PROFILES } from "./providers.js";
import type { AuthorizePageErrorKind, ErrorVars, TokenError, TokenErrorKind } from "./providers.js";
import type {
  AccessTokenCheck,
  OAuthClientConfig,
  OAuthCounters,
  OAuthGrantSnapshot,
  OAuthPaths,
  OAuthProvider,
  OAuthSimulatorControl,
  OAuthSimulatorOptions,
  OAuthSimulatorSettings,
  OAuthTokenFilter,
  OAuthUserConfig,
  RefreshTokenRotation,
  RefreshTokenStatus,
} from "./types.js";

export interface OAuthSimulatorDefinition extends SimulatorDefinition {
  provider: OAuthProvider;
  /** Programmatic control; the same state the HTTP control routes act on. */
  oauth: OAuthSimulatorControl;
  /**
   * JSON control routes for other processes. Mount on the harness's control
   * router (under /__sim): they answer at /__sim/oauth/... and, like the
   * harness's own control routes, are never faulted or counted.
   */
  controlRoutes(router: Router, ctx: SimulatorContext): void;
}

const INTERACTION_TTL_MS = 10 * 60_000;
const MAX_TTL_SECONDS = 86_400;
// RFC 7636 §4.1: 43..128 unreserved characters.
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
// base64url(SHA-256) without padding is always 43 characters.
const S256_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

const DEFAULT_USERS: OAuthUserConfig[] = [{ id: "sandbox-user-1", email: "sandbox.user@example.test", name: "Sandbox User" }];

interface Interaction {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  params: URLSearchParams;
  state?: string;
  codeChallenge: string;
  expiresAt: number;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  userId: string;
  codeChallenge: string;
  issueRefreshToken: boolean;
  expiresAt: number;
  used: boolean;
  grantId?: string;
}

interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  createdAt: number;
  revoked: boolean;
}

interface AccessRecord {
  grantId: string;
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

interface RefreshRecord {
  grantId: string;
  status: RefreshTokenStatus;
}

type BodyValue = string | string[] | undefined;
type Body = Record<string, BodyValue>;

const ttlSchema = z.number().int().min(1).max(MAX_TTL_SECONDS);
const filterSchema = z.strictObject({
  token: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
});
const settingsPatchSchema = z.strictObject({ accessTokenTtlSeconds: ttlSchema.optional() });
const clockSchema = z.strictObject({
  seconds: z
    .number()
    .int()
    .min(0)
    .max(10 * 365 * MAX_TTL_SECONDS),
});

function freshCounters(): OAuthCounters {
  return {
    authorizeRequests: 0,
    consents: { allowed: 0, denied: 0 },
    tokenRequests: { authorization_code: 0, refresh_token: 0, other: 0 },
    tokenErrors: 0,
    tokensIssued: { access: 0, refresh: 0 },
    revocationRequests: 0,
    revocations: 0,
    userinfoRequests: 0,
  };
}

function cloneCounters(c: OAuthCounters): OAuthCounters {
  return {
    ...c,
    consents: { ...c.consents },
    tokenRequests: { ...c.tokenRequests },
    tokensIssued: { ...c.tokensIssued },
  };
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of two secrets of any length. */
function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function s256(verifier: string): string {
  return sha256(verifier).toString("base64url");
}

function splitScopes(scope: string | undefined): string[] {
  return [...new Set((scope ?? "").split(" ").filter(Boolean))];
}

function decodeBasicPart(value: string): string {
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Base64.
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

function validateOptions(provider: OAuthProvider, opts: OAuthSimulatorOptions): void {
  const where = `OAuth simulator (${provider})`;
  if (!opts.clients.length) throw new Error(`${where}: at least one client is required`);
  const ids = new Set<string>();
  for (const client of opts.clients) {
    if (!client.clientId || !client.clientSecret) throw new Error(`${where}: clientId and clientSecret are required`);
    if (ids.has(client.clientId)) throw new Error(`${where}: duplicate clientId ${client.clientId}`);
    ids.add(client.clientId);
    if (!client.redirectUris.length) throw new Error(`${where}: client ${client.clientId} has no redirectUris`);
    for (const uri of client.redirectUris) {
      let parsed: URL;
      try {
        parsed = new URL(uri);
      } catch {
        throw new Error(`${where}: redirect URI is not an absolute URL: ${uri}`);
      }
      if (parsed.hash) throw new Error(`${where}: redirect URI must not have a fragment: ${uri}`);
    }
  }
  const userIds = new Set<string>();
  for (const user of opts.users ?? []) {
    if (!user.id || !user.email || !user.name) throw new Error(`${where}: users need id, email and name`);
    if (userIds.has(user.id)) throw new Error(`${where}: duplicate user id ${user.id}`);
    userIds.add(user.id);
  }
  if (opts.users && !opts.users.length) throw new Error(`${where}: users, when given, must not be empty`);
  if (opts.accessTokenTtlSeconds !== undefined && !ttlSchema.safeParse(opts.accessTokenTtlSeconds).success) {
    throw new Error(`${where}: accessTokenTtlSeconds must be an integer 1..${MAX_TTL_SECONDS}`);
  }
  if (opts.authorizationCodeTtlSeconds !== undefined && !ttlSchema.safeParse(opts.authorizationCodeTtlSeconds).success) {
    throw new Error(`${where}: authorizationCodeTtlSeconds must be an integer 1..${MAX_TTL_SECONDS}`);
  }
}

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`).join("; ");
}

function controlError(res: Response, status: number, message: string): void {
  res.status(status).json({ error: { code: status, message } });
}

export function createOAuthSimulator(provider: OAuthProvider, opts: OAuthSimulatorOptions): OAuthSimulatorDefinition {
  const profile = PROVIDER_PROFILES[provider];
  if (!profile) throw new Error(`Unknown OAuth provider: ${String(provider)}`);
  validateOptions(provider, opts);

  const clients = new Map<string, OAuthClientConfig>(
    opts.clients.map((c) => [c.clientId, { ...c, redirectUris: [...c.redirectUris] }]),
  );
  const users: OAuthUserConfig[] = (opts.users ?? DEFAULT_USERS).map((u) => ({ ...u }));
  const usersById = new Map(users.map((u) => [u.id, u]));
  const initialTtl = opts.accessTokenTtlSeconds ?? profile.defaultAccessTokenTtlSeconds;
  const codeTtlMs = (opts.authorizationCodeTtlSeconds ?? 60) * 1000;
  const rotation: RefreshTokenRotation = opts.refreshTokenRotation ?? profile.rotation;
  const baseNow = opts.now ?? Date.now;

  let accessTtl = initialTtl;
  let clockOffsetMs = 0;
  let counters = freshCounters();
  const interactions = new Map<string, Interaction>();
  const codes = new Map<string, CodeRecord>();
  const grants = new Map<string, Grant>();
  const accessTokens = new Map<string, AccessRecord>();
  const refreshTokens = new Map<string, RefreshRecord>();

  const now = (): number => baseNow() + clockOffsetMs;

  // ---- state helpers -------------------------------------------------------

  function createGrant(clientId: string, userId: string, scopes: string[]): Grant {
    const grant: Grant = { id: randomBytes(12).toString("hex"), clientId, userId, scopes, createdAt: now(), revoked: false };
    grants.set(grant.id, grant);
    return grant;
  }

  function issueAccessToken(grant: Grant, scopes: string[]): { token: string; expiresIn: number } {
    const token = profile.newAccessToken();
    accessTokens.set(token, { grantId: grant.id, scopes, expiresAt: now() + accessTtl * 1000, revoked: false });
    counters.tokensIssued.access++;
    return { token, expiresIn: accessTtl };
  }

  function issueRefreshToken(grant: Grant): string {
    const token = profile.newRefreshToken();
    refreshTokens.set(token, { grantId: grant.id, status: "active" });
    counters.tokensIssued.refresh++;
    return token;
  }

  /** Revokes a grant and so every token issued under it. Returns whether it was live. */
  function revokeGrant(grantId: string | undefined): boolean {
    const grant = grantId ? grants.get(grantId) : undefined;
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    return true;
  }

  function accessStatus(rec: AccessRecord): "active" | "revoked" | "expired" {
    if (rec.revoked || grants.get(rec.grantId)?.revoked !== false) return "revoked";
    return now() >= rec.expiresAt ? "expired" : "active";
  }

  function refreshStatus(rec: RefreshRecord): RefreshTokenStatus {
    if (grants.get(rec.grantId)?.revoked !== false) return "revoked";
    return rec.status;
  }

  function grantMatches(grant: Grant, filter: OAuthTokenFilter): boolean {
    return (!filter.clientId || grant.clientId === filter.clientId) && (!filter.userId || grant.userId === filter.userId);
  }

  function tokenMatches(token: string, grantId: string, filter: OAuthTokenFilter): boolean {
    const grant = grants.get(grantId);
    return !!grant && (!filter.token || filter.token === token) && grantMatches(grant, filter);
  }

  /** Forgets consent interactions and codes long past use, so a long-running sandbox does not grow. */
  function prune(): void {
    const at = now();
    for (const [id, interaction] of interactions) if (at >= interaction.expiresAt) interactions.delete(id);
    for (const [code, rec] of codes) if (at >= rec.expiresAt + codeTtlMs) codes.delete(code);
  }

  function checkAccessToken(token: string): AccessTokenCheck {
    const rec = accessTokens.get(token);
    if (!rec) return { ok: false, reason: "unknown" };
    const status = accessStatus(rec);
    if (status !== "active") return { ok: false, reason: status };
    const grant = grants.get(rec.grantId)!;
    const user = usersById.get(grant.userId);
    if (!user) return { ok: false, reason: "unknown" };
    return {
      ok: true,
      clientId: grant.clientId,
      userId: grant.userId,
      user: { ...user },
      scopes: [...rec.scopes],
      expiresAt: rec.expiresAt,
    };
  }

  function settings(): OAuthSimulatorSettings {
    return {
      provider,
      accessTokenTtlSeconds: accessTtl,
      authorizationCodeTtlSeconds: codeTtlMs / 1000,
      refreshTokenRotation: rotation,
      clockOffsetSeconds: clockOffsetMs / 1000,
    };
  }

  // ---- control object ------------------------------------------------------

  const control: OAuthSimulatorControl = {
    provider,
    paths: { ...profile.paths },
    endpoints(baseUrl) {
      const base = baseUrl.replace(/\/+$/, "");
      const out: OAuthPaths = {
        authorize: base + profile.paths.authorize,
        token: base + profile.paths.token,
        userinfo: base + profile.paths.userinfo,
      };
      if (profile.paths.revoke) out.revoke = base + profile.paths.revoke;
      return out;
    },
    counters: () => cloneCounters(counters),
    resetCounters() {
      counters = freshCounters();
    },
    settings,
    grants(): OAuthGrantSnapshot[] {
      return [...grants.values()].map((grant) => ({
        grantId: grant.id,
        clientId: grant.clientId,
        userId: grant.userId,
        scopes: [...grant.scopes],
        createdAt: new Date(grant.createdAt).toISOString(),
        revoked: grant.revoked,
        refreshTokens: [...refreshTokens.entries()]
          .filter(([, rec]) => rec.grantId === grant.id)
          .map(([token, rec]) => ({ token, status: refreshStatus(rec) })),
        accessTokens: [...accessTokens.entries()]
          .filter(([, rec]) => rec.grantId === grant.id)
          .map(([token, rec]) => ({ token, expiresAt: new Date(rec.expiresAt).toISOString(), status: accessStatus(rec) })),
      }));
    },
    revokeGrants(filter = {}) {
      let targets: Grant[];
      if (filter.token) {
        const grantId = refreshTokens.get(filter.token)?.grantId ?? accessTokens.get(filter.token)?.grantId;
        const grant = grantId ? grants.get(grantId) : undefined;
        targets = grant && grantMatches(grant, filter) ? [grant] : [];
      } else {
        targets = [...grants.values()].filter((g) => grantMatches(g, filter));
      }
      return targets.filter((g) => revokeGrant(g.id)).length;
    },
    expireRefreshTokens(filter = {}) {
      let changed = 0;
      for (const [token, rec] of refreshTokens) {
        if (refreshStatus(rec) === "active" && tokenMatches(token, rec.grantId, filter)) {
          rec.status = "expired";
          changed++;
        }
      }
      return changed;
    },
    expireAccessTokens(filter = {}) {
      let changed = 0;
      const at = now();
      for (const [token, rec] of accessTokens) {
        if (accessStatus(rec) === "active" && tokenMatches(token, rec.grantId, filter)) {
          rec.expiresAt = at;
          changed++;
        }
      }
      return changed;
    },
    setAccessTokenTtl(seconds) {
      const parsed = ttlSchema.safeParse(seconds);
      if (!parsed.success) throw new Error(`accessTokenTtlSeconds must be an integer 1..${MAX_TTL_SECONDS}`);
      accessTtl = parsed.data;
    },
    advanceClock(seconds) {
      const parsed = clockSchema.shape.seconds.safeParse(seconds);
      if (!parsed.success) throw new Error("advanceClock: seconds must be a non-negative integer");
      clockOffsetMs += parsed.data * 1000;
      return clockOffsetMs / 1000;
    },
    checkAccessToken,
    reset() {
      interactions.clear();
      codes.clear();
      grants.clear();
      accessTokens.clear();
      refreshTokens.clear();
      counters = freshCounters();
      accessTtl = initialTtl;
      clockOffsetMs = 0;
    },
  };

  // ---- HTTP helpers --------------------------------------------------------

  function sendPage(res: Response, status: number, html: string): void {
    res.status(status).set("Cache-Control", "no-store").type("html").send(html);
  }

  function sendAuthorizePageError(res: Response, kind: AuthorizePageErrorKind, vars: ErrorVars): void {
    const { heading, detail } = profile.authorizePageError(kind, vars);
    sendPage(res, 400, errorPage(profile.title, heading, detail));
  }

  function redirectTo(res: Response, redirectUri: string, params: Record<string, string>): void {
    const url = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    res.set("Cache-Control", "no-store");
    res.redirect(302, url.toString());
  }

  /** Microsoft's paths carry the tenant; the others have none. */
  function tenantOk(req: Request): boolean {
    if (!profile.acceptedTenants) return true;
    return profile.acceptedTenants.includes(String(req.params.tenant));
  }

  function sendTokenError(res: Response, err: TokenError, usedBasic: boolean): void {
    // RFC 6749 §5.2: a 401 to a client that used HTTP Basic names the scheme.
    if (err.status === 401 && usedBasic) res.set("WWW-Authenticate", 'Basic realm="oauth"');
    res.status(err.status).json(profile.tokenErrorBody(err));
  }

  const str = (value: BodyValue): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

  function duplicateParam(body: Body): string | undefined {
    return Object.keys(body).find((key) => Array.isArray(body[key]));
  }

  type ClientAuthResult =
    | { ok: true; client: OAuthClientConfig; usedBasic: boolean }
    | { ok: false; kind: TokenErrorKind; vars: ErrorVars; usedBasic: boolean };

  function authenticateClient(req: Request, body: Body): ClientAuthResult {
    const header = req.get("authorization") ?? "";
    const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
    const bodyId = str(body.client_id);
    const bodySecret = str(body.client_secret);
    let clientId: string | undefined;
    let secret: string | undefined;
    const usedBasic = !!basic;
    if (basic) {
      const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return { ok: false, kind: "client_secret_wrong", vars: {}, usedBasic };
      clientId = decodeBasicPart(decoded.slice(0, colon));
      secret = decodeBasicPart(decoded.slice(colon + 1));
      if (bodySecret !== undefined || (bodyId !== undefined && bodyId !== clientId)) {
        return { ok: false, kind: "client_multiple_auth", vars: {}, usedBasic };
      }
    } else {
      clientId = bodyId;
      secret = bodySecret;
    }
    if (!clientId) return { ok: false, kind: "client_id_missing", vars: {}, usedBasic };
    const client = clients.get(clientId);
    if (!client) return { ok: false, kind: "client_unknown", vars: { clientId }, usedBasic };
    if (!secret) return { ok: false, kind: "client_secret_missing", vars: { clientId }, usedBasic };
    if (!secretsEqual(secret, client.clientSecret))
      return { ok: false, kind: "client_secret_wrong", vars: { clientId }, usedBasic };
    return { ok: true, client, usedBasic };
  }

  const formBody = express.urlencoded({ extended: false, limit: "32kb", parameterLimit: 100 });

  // ---- authorize: consent page ---------------------------------------------

  function handleAuthorize(req: Request, res: Response): void {
    counters.authorizeRequests++;
    const url = new URL(req.originalUrl, "http://simulator.invalid");
    const params = url.searchParams;
    if (!tenantOk(req)) return sendAuthorizePageError(res, "tenant_unknown", { tenant: String(req.params.tenant) });

    // Until client and redirect URI are known good, errors are pages, never redirects.
    for (const key of ["client_id", "redirect_uri"]) {
      if (params.getAll(key).length > 1) {
        return sendPage(res, 400, errorPage(profile.title, "invalid_request", `Parameter included more than once: ${key}`));
      }
    }
    const clientId = params.get("client_id");
    if (!clientId) return sendAuthorizePageError(res, "client_missing", {});
    const client = clients.get(clientId);
    if (!client) return sendAuthorizePageError(res, "client_unknown", { clientId });
    const redirectUri = params.get("redirect_uri");
    if (!redirectUri) return sendAuthorizePageError(res, "redirect_uri_missing", { clientId });
    if (!client.redirectUris.includes(redirectUri)) {
      return sendAuthorizePageError(res, "redirect_uri_mismatch", { clientId, redirectUri });
    }

    const stateValues = params.getAll("state");
    const state = stateValues.length === 1 ? stateValues[0] : undefined;
    const fail = (error: string, description: string): void => {
      redirectTo(res, redirectUri, {
        error,
        ...(profile.redirectErrorDescriptions ? { error_description: description } : {}),
        ...(state !== undefined ? { state } : {}),
      });
    };

    const repeated = [...new Set(params.keys())].find((key) => params.getAll(key).length > 1);
    if (repeated) return fail("invalid_request", `Parameter included more than once: ${repeated}`);
    const responseType = params.get("response_type");
    if (!responseType) return fail("invalid_request", "Missing required parameter: response_type");
    if (responseType !== "code") return fail("unsupported_response_type", `Unsupported response_type: ${responseType}`);
    const scopes = splitScopes(params.get("scope") ?? undefined);
    if (profile.scopeRequired && !scopes.length) return fail("invalid_request", "Missing required parameter: scope");

    // PKCE is required, and only S256: plain offers no protection if the code leaks.
    const challenge = params.get("code_challenge");
    const method = params.get("code_challenge_method");
    if (!challenge) return fail("invalid_request", "Missing required parameter: code_challenge (PKCE is required)");
    if (!method)
      return fail(
        "invalid_request",
        "Missing code_challenge_method: only S256 is accepted (plain is the default and is refused)",
      );
    if (method === "plain") return fail("invalid_request", "code_challenge_method=plain is not allowed: use S256");
    if (method !== "S256") return fail("invalid_request", `Unsupported code_challenge_method: ${method}`);
    if (!S256_CHALLENGE_RE.test(challenge)) {
      return fail("invalid_request", "Invalid code_challenge: expected 43 base64url characters (SHA-256)");
    }
    const extraProblem = profile.validateAuthorizeExtras(params);
    if (extraProblem) return fail("invalid_request", extraProblem);

    prune();
    const interactionId = randomBytes(24).toString("base64url");
    interactions.set(interactionId, {
      clientId,
      redirectUri,
      scopes,
      params,
      state,
      codeChallenge: challenge,
      expiresAt: now() + INTERACTION_TTL_MS,
    });
    sendPage(
      res,
      200,
      consentPage({
        providerTitle: profile.title,
        formAction: url.pathname,
        interactionId,
        appName: client.name ?? client.clientId,
        clientId,
        scopes,
        users,
      }),
    );
  }

  // ---- authorize: the consent form's POST ----------------------------------

  function handleConsent(req: Request, res: Response): void {
    if (!tenantOk(req)) return sendAuthorizePageError(res, "tenant_unknown", { tenant: String(req.params.tenant) });
    const body = (req.body ?? {}) as Body;
    const id = str(body.interaction);
    const interaction = id ? interactions.get(id) : undefined;
    if (id) interactions.delete(id); // single use
    if (!interaction || now() >= interaction.expiresAt) {
      return sendPage(
        res,
        400,
        errorPage(
          profile.title,
          "invalid_request",
          "This sign-in request has expired or was already used. Start again from the app.",
        ),
      );
    }
    const state: Record<string, string> = interaction.state !== undefined ? { state: interaction.state } : {};
    const decision = str(body.decision);
    if (decision === "deny") {
      counters.consents.denied++;
      return redirectTo(res, interaction.redirectUri, { ...profile.denyRedirectParams(), ...state });
    }
    if (decision !== "allow") return sendPage(res, 400, errorPage(profile.title, "invalid_request", "Choose Allow or Deny."));
    const account = str(body.account);
    const user = account ? usersById.get(account) : users[0];
    if (!user) return sendPage(res, 400, errorPage(profile.title, "invalid_request", "Unknown account."));

    const code = profile.newCode();
    const info = { params: interaction.params, scopes: interaction.scopes };
    codes.set(code, {
      clientId: interaction.clientId,
      redirectUri: interaction.redirectUri,
      scopes: interaction.scopes,
      userId: user.id,
      codeChallenge: interaction.codeChallenge,
      issueRefreshToken: profile.issuesRefreshToken(info),
      expiresAt: now() + codeTtlMs,
      used: false,
    });
    counters.consents.allowed++;
    redirectTo(res, interaction.redirectUri, { code, ...state, ...profile.successRedirectExtras(info) });
  }

  // ---- token ---------------------------------------------------------------

  function handleToken(req: Request, res: Response): void {
    res.set({ "Cache-Control": "no-store", Pragma: "no-cache" });
    const body = (req.body ?? {}) as Body;
    const grantType = str(body.grant_type);
    if (grantType === "authorization_code" || grantType === "refresh_token") counters.tokenRequests[grantType]++;
    else counters.tokenRequests.other++;

    let usedBasic = false;
    const fail = (kind: TokenErrorKind, vars: ErrorVars = {}): void => {
      counters.tokenErrors++;
      sendTokenError(res, profile.tokenError(kind, vars), usedBasic);
    };

    if (!tenantOk(req)) return fail("tenant_unknown", { tenant: String(req.params.tenant) });
    if (!req.is("application/x-www-form-urlencoded")) return fail("bad_content_type");
    const repeated = duplicateParam(body);
    if (repeated) return fail("duplicate_parameter", { param: repeated });
    if (!grantType) return fail("missing_parameter", { param: "grant_type" });

    const auth = authenticateClient(req, body);
    usedBasic = auth.usedBasic;
    if (!auth.ok) return fail(auth.kind, auth.vars);
    const client = auth.client;

    if (grantType === "authorization_code") {
      const code = str(body.code);
      if (!code) return fail("missing_parameter", { param: "code" });
      const redirectUri = str(body.redirect_uri);
      if (!redirectUri) return fail("missing_parameter", { param: "redirect_uri" });
      const rec = codes.get(code);
      if (!rec) return fail("code_unknown");
      if (rec.clientId !== client.clientId) return fail("code_wrong_client");
      if (rec.used) {
        // RFC 6749 §4.1.2: a replayed code revokes what was issued from it.
        revokeGrant(rec.grantId);
        return fail("code_reused");
      }
      if (now() >= rec.expiresAt) return fail("code_expired");
      if (redirectUri !== rec.redirectUri) return fail("redirect_uri_mismatch");
      const verifier = str(body.code_verifier);
      if (!verifier) return fail("verifier_missing");
      if (!VERIFIER_RE.test(verifier) || s256(verifier) !== rec.codeChallenge) return fail("verifier_mismatch");

      rec.used = true;
      const grant = createGrant(client.clientId, rec.userId, rec.scopes);
      rec.grantId = grant.id;
      const access = issueAccessToken(grant, grant.scopes);
      const refreshToken = rec.issueRefreshToken ? issueRefreshToken(grant) : undefined;
      res.json(
        profile.tokenResponse({ accessToken: access.token, expiresIn: access.expiresIn, refreshToken, scopes: grant.scopes }),
      );
      return;
    }

    if (grantType === "refresh_token") {
      const token = str(body.refresh_token);
      if (!token) return fail("missing_parameter", { param: "refresh_token" });
      const rec = refreshTokens.get(token);
      const grant = rec ? grants.get(rec.grantId) : undefined;
      if (!rec || !grant) return fail("refresh_unknown");
      if (grant.clientId !== client.clientId) return fail("refresh_wrong_client");
      const status = refreshStatus(rec);
      if (status === "superseded") {
        // Reuse of a rotated-away token: treat as stolen and revoke the grant (OAuth 2.1 §4.3.1).
        revokeGrant(grant.id);
        return fail("refresh_revoked");
      }
      if (status === "revoked") return fail("refresh_revoked");
      if (status === "expired") return fail("refresh_expired");
      let scopes = grant.scopes;
      const requested = splitScopes(str(body.scope));
      if (requested.length) {
        if (requested.some((s) => !grant.scopes.includes(s))) return fail("scope_broader");
        scopes = requested;
      }
      const access = issueAccessToken(grant, scopes);
      let refreshToken: string | undefined;
      if (rotation !== "none") {
        refreshToken = issueRefreshToken(grant);
        if (rotation === "rotate-revoke-old") rec.status = "superseded";
      }
      res.json(profile.tokenResponse({ accessToken: access.token, expiresIn: access.expiresIn, refreshToken, scopes }));
      return;
    }

    fail("grant_type_unsupported", { grantType });
  }

  // ---- revoke (Google, HoneyBook) -----------------------------------------

  function handleRevoke(req: Request, res: Response): void {
    const rules = profile.revoke!;
    counters.revocationRequests++;
    res.set({ "Cache-Control": "no-store", Pragma: "no-cache" });
    let usedBasic = false;
    const fail = (kind: TokenErrorKind, vars: ErrorVars = {}): void => {
      sendTokenError(res, profile.tokenError(kind, vars), usedBasic);
    };
    const isForm = !!req.is("application/x-www-form-urlencoded");
    if (rules.clientAuth && !isForm) return fail("bad_content_type");
    const body: Body = isForm ? { ...((req.body ?? {}) as Body) } : {};
    if (!rules.clientAuth) {
      // Google also takes the token in the query string (google-auth-library sends it there).
      const fromQuery = new URL(req.originalUrl, "http://simulator.invalid").searchParams.getAll("token");
      const all = [...(body.token === undefined ? [] : [body.token].flat()), ...fromQuery];
      body.token = all.length > 1 ? all : all[0];
    }
    const repeated = duplicateParam(body);
    if (repeated) return fail("duplicate_parameter", { param: repeated });

    let clientId: string | undefined;
    if (rules.clientAuth) {
      const auth = authenticateClient(req, body);
      usedBasic = auth.usedBasic;
      if (!auth.ok) return fail(auth.kind, auth.vars);
      clientId = auth.client.clientId;
    }
    const token = str(body.token);
    if (!token) return fail("missing_parameter", { param: "token" });

    const refresh = refreshTokens.get(token);
    const access = accessTokens.get(token);
    const grant = grants.get(refresh?.grantId ?? access?.grantId ?? "");
    const live = refresh ? refreshStatus(refresh) === "active" : access ? accessStatus(access) === "active" : false;
    if (!grant || !live) {
      if (rules.unknownToken === "error") return fail("revoke_token_invalid");
      res.status(200).end();
      return;
    }
    if (clientId !== undefined && grant.clientId !== clientId) return fail("revoke_token_other_client");
    if (refresh || rules.revokesGrantOnAccessToken) revokeGrant(grant.id);
    else if (access) access.revoked = true;
    counters.revocations++;
    // The body is empty: clients must not parse it.
    res.status(200).end();
  }

  // ---- userinfo / me -------------------------------------------------------

  function handleUserinfo(req: Request, res: Response): void {
    counters.userinfoRequests++;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
    if (!match) return profile.sendUnauthorized(res, "missing");
    const check = checkAccessToken(match[1]!);
    if (!check.ok) return profile.sendUnauthorized(res, check.reason);
    res.set("Cache-Control", "no-store");
    res.json(profile.userinfo(check.user, check.scopes));
  }

  // ---- control routes ------------------------------------------------------

  function controlRoutes(router: Router): void {
    const r = express.Router();
    r.use(express.json());

    const parse = <T>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined => {
      const result = schema.safeParse(req.body ?? {});
      if (result.success) return result.data;
      controlError(res, 400, `Invalid body: ${zodMessage(result.error)}`);
      return undefined;
    };

    r.get("/", (_req, res) => {
      res.json({
        provider,
        paths: control.paths,
        settings: settings(),
        clients: [...clients.values()].map((c) => ({
          clientId: c.clientId,
          name: c.name ?? c.clientId,
          redirectUris: c.redirectUris,
        })),
        users,
      });
    });
    r.get("/stats", (_req, res) => {
      res.json(control.counters());
    });
    r.delete("/stats", (_req, res) => {
      control.resetCounters();
      res.json(control.counters());
    });
    r.get("/grants", (_req, res) => {
      res.json(control.grants());
    });
    r.post("/grants/revoke", (req, res) => {
      const filter = parse(filterSchema, req, res);
      if (filter) res.json({ revoked: control.revokeGrants(filter) });
    });
    r.post("/refresh-tokens/expire", (req, res) => {
      const filter = parse(filterSchema, req, res);
      if (filter) res.json({ expired: control.expireRefreshTokens(filter) });
    });
    r.post("/access-tokens/expire", (req, res) => {
      const filter = parse(filterSchema, req, res);
      if (filter) res.json({ expired: control.expireAccessTokens(filter) });
    });
    r.get("/settings", (_req, res) => {
      res.json(settings());
    });
    r.put("/settings", (req, res) => {
      const patch = parse(settingsPatchSchema, req, res);
      if (!patch) return;
      if (patch.accessTokenTtlSeconds !== undefined) control.setAccessTokenTtl(patch.accessTokenTtlSeconds);
      res.json(settings());
    });
    r.post("/clock/advance", (req, res) => {
      const body = parse(clockSchema, req, res);
      if (body) res.json({ clockOffsetSeconds: control.advanceClock(body.seconds) });
    });
    r.post("/reset", (_req, res) => {
      control.reset();
      res.json(settings());
    });
    // Malformed JSON and the like: the harness's control error shape.
    r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      const status =
        typeof err === "object" && err !== null && "status" in err && typeof err.status === "number" ? err.status : 500;
      controlError(res, status >= 400 && status < 600 ? status : 500, err instanceof Error ? err.message : String(err));
    });
    router.use("/oauth", r);
  }

  return {
    name: opts.name ?? provider,
    provider,
    oauth: control,
    routes(router) {
      router.get(profile.routes.authorize, handleAuthorize);
      router.post(profile.routes.authorize, formBody, handleConsent);
      router.post(profile.routes.token, formBody, handleToken);
      if (profile.routes.revoke && profile.revoke) router.post(profile.routes.revoke, formBody, handleRevoke);
      for (const path of [profile.routes.userinfo, ...(profile.userinfoAliases ?? [])]) router.get(path, handleUserinfo);
    },
    controlRoutes,
  };
}
