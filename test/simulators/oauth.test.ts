import { describe, it, expect, afterEach } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { startSimulator } from "../../simulators/harness.js";
import type { RunningSimulator } from "../../simulators/harness.js";
import { createOAuthSimulator } from "../../simulators/oauth/index.js";
import type { OAuthProvider, OAuthSimulatorDefinition, OAuthSimulatorOptions } from "../../simulators/oauth/index.js";
import { SANDBOX_OAUTH_CLIENTS, sandboxOAuthSimulators, simulatorRegistry } from "../../simulators/index.js";

// ---- fixtures ---------------------------------------------------------------

const REDIRECT = "http://127.0.0.1:3000/oauth/callback/test";
const CLIENT = { clientId: "test-client", clientSecret: "test-secret", redirectUris: [REDIRECT], name: "Test App" };
const OTHER_CLIENT = { clientId: "other-client", clientSecret: "other-secret", redirectUris: [REDIRECT] };
const USERS = [
  { id: "user-1", email: "lena@example.test", name: "Lena Lumen", companyName: "Lumen & Lace" },
  { id: "user-2", email: "chris@example.test", name: "Chris Olive", companyName: "Olive Branch" },
];

interface ProviderCase {
  authorize: string;
  token: string;
  revoke?: string;
  userinfo: string;
  scope: string;
  extraAuthorizeParams: Record<string, string>;
}

// The providers' public paths, written out so a path change fails here.
const CASES: Record<OAuthProvider, ProviderCase> = {
  google: {
    authorize: "/o/oauth2/v2/auth",
    token: "/token",
    revoke: "/revoke",
    userinfo: "/oauth2/v3/userinfo",
    scope: "openid email profile https://www.googleapis.com/auth/calendar.events",
    extraAuthorizeParams: { access_type: "offline", prompt: "consent" },
  },
  microsoft: {
    authorize: "/common/oauth2/v2.0/authorize",
    token: "/common/oauth2/v2.0/token",
    userinfo: "/v1.0/me",
    scope: "openid offline_access User.Read Calendars.ReadWrite",
    extraAuthorizeParams: {},
  },
  honeybook: {
    authorize: "/oauth/authorize",
    token: "/oauth/token",
    revoke: "/oauth/revoke",
    userinfo: "/api/v2/users/me",
    scope: "projects:read contacts:read",
    extraAuthorizeParams: {},
  },
};

const PROVIDERS: OAuthProvider[] = ["google", "microsoft", "honeybook"];

interface Env {
  provider: OAuthProvider;
  def: OAuthSimulatorDefinition;
  sim: RunningSimulator;
  c: ProviderCase;
}

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(provider: OAuthProvider, opts: Partial<OAuthSimulatorOptions> = {}): Promise<Env> {
  const def = createOAuthSimulator(provider, { clients: [CLIENT, OTHER_CLIENT], users: USERS, ...opts });
  const sim = await startSimulator(def);
  running.push(sim);
  return { provider, def, sim, c: CASES[provider] };
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizeUrl(env: Env, params: Record<string, string | undefined>): string {
  const url = new URL(env.c.authorize, env.sim.url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

function standardParams(
  env: Env,
  challenge: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: env.c.scope,
    state: "st-123/é",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...env.c.extraAuthorizeParams,
    ...overrides,
  };
}

interface ConsentForm {
  action: string;
  hidden: Record<string, string>;
  accounts: string[];
  buttons: { name: string; value: string; label: string }[];
}

const unescape = (s: string): string =>
  s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&");

function parseConsentForm(html: string): ConsentForm {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`no consent form in: ${html}`);
  const inner = form[2]!;
  const hidden: Record<string, string> = {};
  for (const m of inner.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[m[1]!] = unescape(m[2]!);
  const select = /<select name="account">([\s\S]*?)<\/select>/.exec(inner);
  const accounts = [...(select?.[1] ?? "").matchAll(/<option value="([^"]*)"/g)].map((m) => unescape(m[1]!));
  const buttons = [...inner.matchAll(/<button type="submit" name="([^"]+)" value="([^"]+)">([^<]*)<\/button>/g)].map((m) => ({
    name: m[1]!,
    value: m[2]!,
    label: m[3]!,
  }));
  return { action: unescape(form[1]!), hidden, accounts, buttons };
}

async function openConsent(env: Env, url: string): Promise<{ html: string; form: ConsentForm }> {
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/html/);
  const html = await res.text();
  return { html, form: parseConsentForm(html) };
}

/** Submits the consent form as a browser would; returns the 302 Location. */
async function submitConsent(env: Env, form: ConsentForm, decision: "allow" | "deny", account?: string): Promise<URL> {
  const button = form.buttons.find((b) => b.value === decision);
  expect(button).toBeDefined();
  const body = new URLSearchParams({ ...form.hidden, account: account ?? form.accounts[0]!, [button!.name]: button!.value });
  const res = await fetch(new URL(form.action, env.sim.url), { method: "POST", body, redirect: "manual" });
  expect(res.status).toBe(302);
  const location = res.headers.get("location");
  expect(location).toBeTruthy();
  return new URL(location!);
}

/** Authorize + Allow; returns the code and the callback URL. */
async function authorize(
  env: Env,
  overrides: Record<string, string | undefined> = {},
  account?: string,
): Promise<{ code: string; callback: URL; verifier: string }> {
  const { verifier, challenge } = pkce();
  const { form } = await openConsent(env, authorizeUrl(env, standardParams(env, challenge, overrides)));
  const callback = await submitConsent(env, form, "allow", account);
  const code = callback.searchParams.get("code");
  expect(code).toBeTruthy();
  return { code: code!, callback, verifier };
}

interface TokenReply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function tokenRequest(
  env: Env,
  params: Record<string, string>,
  init: { basic?: [string, string] } = {},
): Promise<TokenReply> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (init.basic) headers.authorization = `Basic ${Buffer.from(`${init.basic[0]}:${init.basic[1]}`).toString("base64")}`;
  const res = await fetch(new URL(env.c.token, env.sim.url), { method: "POST", headers, body: new URLSearchParams(params) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

function exchange(env: Env, code: string, verifier: string, extra: Record<string, string> = {}): Promise<TokenReply> {
  return tokenRequest(env, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    ...extra,
  });
}

function refresh(env: Env, refreshToken: string, extra: Record<string, string> = {}): Promise<TokenReply> {
  return tokenRequest(env, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    ...extra,
  });
}

async function userinfo(env: Env, accessToken: string | null): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(new URL(env.c.userinfo, env.sim.url), {
    headers: accessToken === null ? {} : { authorization: `Bearer ${accessToken}` },
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/** Code flow through to tokens. */
async function connect(env: Env, overrides: Record<string, string | undefined> = {}): Promise<Record<string, unknown>> {
  const { code, verifier } = await authorize(env, overrides);
  const reply = await exchange(env, code, verifier);
  expect(reply.status, JSON.stringify(reply.json)).toBe(200);
  return reply.json;
}

function expectOAuthError(reply: TokenReply, status: number, error: string): void {
  expect(reply.status, JSON.stringify(reply.json)).toBe(status);
  expect(reply.json.error).toBe(error);
  expect(typeof reply.json.error_description).toBe("string");
}

// ---- tests ------------------------------------------------------------------

describe.each(PROVIDERS)("%s OAuth simulator: code flow with PKCE", (provider) => {
  it("consent page → Allow → callback → code exchange → userinfo", async () => {
    const env = await start(provider);
    expect(env.def.name).toBe(provider);
    expect(env.def.oauth.paths).toEqual({
      authorize: env.c.authorize,
      token: env.c.token,
      userinfo: env.c.userinfo,
      ...(env.c.revoke ? { revoke: env.c.revoke } : {}),
    });

    expect(env.def.oauth.endpoints(`${env.sim.url}/`).token).toBe(`${env.sim.url}${env.c.token}`);

    const { verifier, challenge } = pkce();
    const { html, form } = await openConsent(env, authorizeUrl(env, standardParams(env, challenge)));
    expect(html).toContain("Test App");
    expect(html).toContain(CLIENT.clientId);
    for (const scope of env.c.scope.split(" ")) expect(html).toContain(scope);
    expect(form.accounts).toEqual(["user-1", "user-2"]);
    expect(form.buttons.map((b) => b.label)).toEqual(["Allow", "Deny"]);
    expect(new URL(form.action, env.sim.url).pathname).toBe(env.c.authorize);

    // Pick the second account to prove the choice is honoured.
    const callback = await submitConsent(env, form, "allow", "user-2");
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get("state")).toBe("st-123/é");
    const code = callback.searchParams.get("code")!;
    expect(code.length).toBeGreaterThan(20);
    if (provider === "google") {
      expect(code.startsWith("4/")).toBe(true); // contains "/": callers must URL-decode
      expect(callback.searchParams.get("scope")).toBe(env.c.scope);
      expect(callback.searchParams.get("authuser")).toBe("0");
    }
    if (provider === "microsoft") {
      expect(callback.searchParams.get("session_state")).toMatch(/^[0-9a-f-]{36}$/);
    }

    const reply = await exchange(env, code, verifier);
    expect(reply.status, JSON.stringify(reply.json)).toBe(200);
    expect(reply.headers.get("cache-control")).toBe("no-store");
    const tokens = reply.json;
    expect(tokens.token_type).toBe("Bearer");
    expect(typeof tokens.access_token).toBe("string");
    expect(typeof tokens.refresh_token).toBe("string");
    expect(tokens.access_token).not.toBe(tokens.refresh_token);
    expect(tokens.scope).toBe(env.c.scope);
    expect(tokens.expires_in).toBe(provider === "honeybook" ? 7200 : 3599);
    if (provider === "microsoft") expect(tokens.ext_expires_in).toBe(3599);
    if (provider === "google") expect(String(tokens.access_token).startsWith("ya29.")).toBe(true);

    const me = await userinfo(env, tokens.access_token as string);
    expect(me.status).toBe(200);
    if (provider === "google") {
      expect(me.json).toEqual({
        sub: "user-2",
        name: "Chris Olive",
        given_name: "Chris",
        family_name: "Olive",
        picture: expect.stringMatching(/^https:\/\//),
        email: "chris@example.test",
        email_verified: true,
      });
    } else if (provider === "microsoft") {
      expect(me.json).toMatchObject({
        id: "user-2",
        displayName: "Chris Olive",
        mail: "chris@example.test",
        userPrincipalName: "chris@example.test",
      });
    } else {
      expect(me.json).toEqual({
        _id: "user-2",
        email: "chris@example.test",
        full_name: "Chris Olive",
        company_name: "Olive Branch",
      });
    }

    const counters = env.def.oauth.counters();
    expect(counters.authorizeRequests).toBe(1);
    expect(counters.consents).toEqual({ allowed: 1, denied: 0 });
    expect(counters.tokenRequests).toEqual({ authorization_code: 1, refresh_token: 0, other: 0 });
    expect(counters.tokensIssued).toEqual({ access: 1, refresh: 1 });
    expect(counters.userinfoRequests).toBe(1);
    expect(env.def.oauth.grants()).toMatchObject([{ clientId: CLIENT.clientId, userId: "user-2", revoked: false }]);
  });

  it("Deny redirects with error=access_denied and the state", async () => {
    const env = await start(provider);
    const { challenge } = pkce();
    const { form } = await openConsent(env, authorizeUrl(env, standardParams(env, challenge, { state: "deny-state" })));
    const callback = await submitConsent(env, form, "deny");
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe("deny-state");
    expect(callback.searchParams.has("code")).toBe(false);
    if (provider === "microsoft") expect(callback.searchParams.get("error_subcode")).toBe("cancel");
    expect(env.def.oauth.counters().consents).toEqual({ allowed: 0, denied: 1 });

    // The consent interaction is single-use: replaying the form is refused.
    const replay = await fetch(new URL(form.action, env.sim.url), {
      method: "POST",
      body: new URLSearchParams({ ...form.hidden, account: "user-1", decision: "allow" }),
      redirect: "manual",
    });
    expect(replay.status).toBe(400);
    expect(replay.headers.get("location")).toBeNull();
  });

  it("a reused code answers invalid_grant and revokes the tokens issued from it", async () => {
    const env = await start(provider);
    const { code, verifier } = await authorize(env);
    const first = await exchange(env, code, verifier);
    expect(first.status).toBe(200);
    const second = await exchange(env, code, verifier);
    expectOAuthError(second, 400, "invalid_grant");
    expect((await userinfo(env, first.json.access_token as string)).status).toBe(401);
    expectOAuthError(await refresh(env, first.json.refresh_token as string), 400, "invalid_grant");
  });

  it("a wrong or missing code_verifier answers invalid_grant without consuming the code", async () => {
    const env = await start(provider);
    const { code, verifier } = await authorize(env);
    expectOAuthError(await exchange(env, code, pkce().verifier), 400, "invalid_grant");
    expectOAuthError(await exchange(env, code, "too-short"), 400, "invalid_grant");
    const { code_verifier: _dropped, ...withoutVerifier } = {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    };
    expectOAuthError(await tokenRequest(env, withoutVerifier), 400, "invalid_grant");
    expect((await exchange(env, code, verifier)).status).toBe(200);
    const counters = env.def.oauth.counters();
    expect(counters.tokenRequests.authorization_code).toBe(4);
    expect(counters.tokenErrors).toBe(3);
  });

  it("refuses authorize requests without S256 PKCE by redirecting invalid_request", async () => {
    const env = await start(provider);
    const { challenge } = pkce();
    const variants: Record<string, string | undefined>[] = [
      { code_challenge: undefined, code_challenge_method: undefined },
      { code_challenge_method: undefined },
      { code_challenge_method: "plain" },
      { code_challenge_method: "S512" },
      { code_challenge: "not-a-sha256-challenge" },
    ];
    for (const overrides of variants) {
      const res = await fetch(authorizeUrl(env, standardParams(env, challenge, { state: "pkce", ...overrides })), {
        redirect: "manual",
      });
      expect(res.status, JSON.stringify(overrides)).toBe(302);
      const location = new URL(res.headers.get("location")!);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get("error")).toBe("invalid_request");
      expect(location.searchParams.get("state")).toBe("pkce");
      expect(location.searchParams.has("code")).toBe(false);
    }
    // response_type other than code
    const rt = await fetch(authorizeUrl(env, standardParams(env, challenge, { response_type: "token" })), { redirect: "manual" });
    expect(new URL(rt.headers.get("location")!).searchParams.get("error")).toBe("unsupported_response_type");
  });

  it("answers an unregistered redirect_uri or unknown client with a 400 page and no redirect", async () => {
    const env = await start(provider);
    const { challenge } = pkce();
    const bad = [
      { redirect_uri: "http://127.0.0.1:3000/oauth/callback/evil" },
      { redirect_uri: `${REDIRECT}/` }, // exact match only
      { redirect_uri: REDIRECT.replace("127.0.0.1", "localhost") },
      { redirect_uri: undefined },
      { client_id: "nobody" },
      { client_id: undefined },
    ];
    for (const overrides of bad) {
      const res = await fetch(authorizeUrl(env, standardParams(env, challenge, overrides)), { redirect: "manual" });
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.get("content-type")).toMatch(/text\/html/);
      expect(await res.text()).not.toContain('name="interaction"');
    }
  });

  it("binds the code to the client and redirect_uri", async () => {
    const env = await start(provider);
    const { code, verifier } = await authorize(env);
    const otherClient = await exchange(env, code, verifier, {
      client_id: OTHER_CLIENT.clientId,
      client_secret: OTHER_CLIENT.clientSecret,
    });
    expectOAuthError(otherClient, 400, "invalid_grant");
    const otherRedirect = await exchange(env, code, verifier, { redirect_uri: "http://127.0.0.1:3000/elsewhere" });
    expectOAuthError(otherRedirect, 400, provider === "google" ? "redirect_uri_mismatch" : "invalid_grant");
    expect((await exchange(env, code, verifier)).status).toBe(200);
  });

  it("expires codes after 60 seconds", async () => {
    const env = await start(provider);
    const { code, verifier } = await authorize(env);
    env.def.oauth.advanceClock(61);
    expectOAuthError(await exchange(env, code, verifier), 400, "invalid_grant");
  });

  it("authenticates clients: wrong secret 401 invalid_client, HTTP Basic accepted", async () => {
    const env = await start(provider);
    const { code, verifier } = await authorize(env);
    const wrong = await exchange(env, code, verifier, { client_secret: "wrong" });
    expectOAuthError(wrong, 401, "invalid_client");

    const params = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier };
    const wrongBasic = await tokenRequest(env, params, { basic: [CLIENT.clientId, "wrong"] });
    expectOAuthError(wrongBasic, 401, "invalid_client");
    expect(wrongBasic.headers.get("www-authenticate")).toMatch(/^Basic/);

    const unknown = await exchange(env, code, verifier, { client_id: "nobody", client_secret: "x" });
    expect(unknown.status).toBe(provider === "microsoft" ? 400 : 401);
    expect(unknown.json.error).toBe(provider === "microsoft" ? "unauthorized_client" : "invalid_client");

    // Both mechanisms at once is refused (RFC 6749 §2.3).
    const both = await tokenRequest(
      env,
      { ...params, client_secret: CLIENT.clientSecret },
      { basic: [CLIENT.clientId, CLIENT.clientSecret] },
    );
    expectOAuthError(both, 400, "invalid_request");

    const ok = await tokenRequest(env, params, { basic: [CLIENT.clientId, CLIENT.clientSecret] });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
  });

  it("rejects unsupported grant types, non-form bodies and repeated parameters", async () => {
    const env = await start(provider);
    const creds = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    expectOAuthError(
      await tokenRequest(env, { grant_type: "password", username: "a", password: "b", ...creds }),
      400,
      "unsupported_grant_type",
    );
    expectOAuthError(await tokenRequest(env, { ...creds }), 400, "invalid_request");

    const json = await fetch(new URL(env.c.token, env.sim.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "x", ...creds }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");

    const repeated = await fetch(new URL(env.c.token, env.sim.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=${CLIENT.clientId}&client_secret=${CLIENT.clientSecret}`,
    });
    expect(repeated.status).toBe(400);
    expect(((await repeated.json()) as { error: string }).error).toBe("invalid_request");
    expect(env.def.oauth.counters().tokenRequests).toEqual({ authorization_code: 0, refresh_token: 1, other: 3 });
  });

  it("refreshes access tokens; an unknown, revoked or expired refresh token answers invalid_grant", async () => {
    const env = await start(provider);
    const tokens = await connect(env);
    const refreshToken = tokens.refresh_token as string;

    const r1 = await refresh(env, refreshToken);
    expect(r1.status, JSON.stringify(r1.json)).toBe(200);
    expect(r1.json.access_token).not.toBe(tokens.access_token);
    expect(r1.json.token_type).toBe("Bearer");
    expect(r1.json.scope).toBe(env.c.scope);
    expect((await userinfo(env, r1.json.access_token as string)).status).toBe(200);

    let current = refreshToken;
    if (provider === "google") {
      // Google does not rotate: no refresh_token in the reply, the old one keeps working.
      expect(r1.json).not.toHaveProperty("refresh_token");
      expect((await refresh(env, refreshToken)).status).toBe(200);
    } else if (provider === "microsoft") {
      // Microsoft rotates, and the previous refresh token stays valid.
      expect(typeof r1.json.refresh_token).toBe("string");
      expect(r1.json.refresh_token).not.toBe(refreshToken);
      expect((await refresh(env, refreshToken)).status).toBe(200);
      expect((await refresh(env, r1.json.refresh_token as string)).status).toBe(200);
      current = r1.json.refresh_token as string;
    } else {
      // HoneyBook (standard server, OAuth 2.1 style): rotates and retires the used token (reuse: see below).
      expect(typeof r1.json.refresh_token).toBe("string");
      expect(r1.json.refresh_token).not.toBe(refreshToken);
      current = r1.json.refresh_token as string;
    }

    // Narrowing the scope is allowed, widening it is not.
    const first = env.c.scope.split(" ")[0]!;
    const narrowed = await refresh(env, current, { scope: first });
    expect(narrowed.status).toBe(200);
    expect(narrowed.json.scope).toBe(first);
    if (provider !== "honeybook") {
      expectOAuthError(await refresh(env, current, { scope: `${env.c.scope} https://example.test/admin` }), 400, "invalid_scope");
    }

    expectOAuthError(await refresh(env, "not-a-refresh-token"), 400, "invalid_grant");
    const latest = provider === "honeybook" ? (narrowed.json.refresh_token as string) : current;
    expectOAuthError(
      await refresh(env, latest, { client_id: OTHER_CLIENT.clientId, client_secret: OTHER_CLIENT.clientSecret }),
      400,
      provider === "google" ? "unauthorized_client" : "invalid_grant",
    );

    // Expiring just the refresh token leaves the access token alone.
    expect(env.def.oauth.expireRefreshTokens({ token: latest })).toBe(1);
    expectOAuthError(await refresh(env, latest), 400, "invalid_grant");
    expect((await userinfo(env, narrowed.json.access_token as string)).status).toBe(200);
  });

  it("a revoked grant answers invalid_grant on refresh and 401 on userinfo", async () => {
    const env = await start(provider);
    const tokens = await connect(env);
    const other = await connect(env); // a second connection, left alone
    expect(env.def.oauth.revokeGrants({ token: tokens.refresh_token as string })).toBe(1);
    const reply = await refresh(env, tokens.refresh_token as string);
    expectOAuthError(reply, 400, "invalid_grant");
    expect((await userinfo(env, tokens.access_token as string)).status).toBe(401);
    expect((await refresh(env, other.refresh_token as string)).status).toBe(200);
    expect(env.def.oauth.revokeGrants({ token: tokens.refresh_token as string })).toBe(0);
    expect(env.def.oauth.counters().tokenRequests).toEqual({ authorization_code: 2, refresh_token: 2, other: 0 });
  });

  it("access tokens expire after the configured TTL (401 in the provider's format)", async () => {
    const env = await start(provider);
    env.def.oauth.setAccessTokenTtl(5);
    const tokens = await connect(env);
    expect(tokens.expires_in).toBe(5);
    expect((await userinfo(env, tokens.access_token as string)).status).toBe(200);
    env.def.oauth.advanceClock(6);
    const expired = await userinfo(env, tokens.access_token as string);
    expect(expired.status).toBe(401);
    const missing = await userinfo(env, null);
    expect(missing.status).toBe(401);
    const bogus = await userinfo(env, "bogus");
    expect(bogus.status).toBe(401);
    if (provider === "microsoft") {
      expect(expired.json).toMatchObject({
        error: { code: "InvalidAuthenticationToken", message: expect.stringMatching(/expired/) },
      });
      expect(missing.json).toMatchObject({ error: { code: "InvalidAuthenticationToken" } });
      expect(bogus.json).toMatchObject({ error: { code: "InvalidAuthenticationToken" } });
    } else {
      expect(expired.json).toMatchObject({ error: "invalid_token" });
      expect(bogus.json).toMatchObject({ error: "invalid_token" });
      expect(expired.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    }
    // A refresh gets a working token again.
    const refreshed = await refresh(env, tokens.refresh_token as string);
    expect((await userinfo(env, refreshed.json.access_token as string)).status).toBe(200);
  });
});

describe("provider-specific behaviour", () => {
  it("Google issues a refresh token only for access_type=offline and gates userinfo fields by scope", async () => {
    const env = await start("google");
    const online = await connect(env, { access_type: "online", scope: "openid" });
    expect(online).not.toHaveProperty("refresh_token");
    expect((await userinfo(env, online.access_token as string)).json).toEqual({ sub: "user-1" });
    // The OpenID Connect userinfo path answers the same.
    const oidc = await fetch(new URL("/v1/userinfo", env.sim.url), {
      headers: { authorization: `Bearer ${String(online.access_token)}` },
    });
    expect(await oidc.json()).toEqual({ sub: "user-1" });
    const implicitOnline = await connect(env, { access_type: undefined });
    expect(implicitOnline).not.toHaveProperty("refresh_token");

    const bad = await fetch(authorizeUrl(env, standardParams(env, pkce().challenge, { access_type: "forever" })), {
      redirect: "manual",
    });
    expect(new URL(bad.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
  });

  it("Microsoft issues a refresh token only with offline_access, and checks the tenant", async () => {
    const env = await start("microsoft");
    const noOffline = await connect(env, { scope: "openid User.Read" });
    expect(noOffline).not.toHaveProperty("refresh_token");

    const badTenant = await fetch(new URL("/contoso.example/oauth2/v2.0/authorize", env.sim.url), { redirect: "manual" });
    expect(badTenant.status).toBe(400);
    expect(await badTenant.text()).toContain("AADSTS90002");
    const organizations = await fetch(
      `${env.sim.url}/organizations/oauth2/v2.0/authorize?${new URLSearchParams(standardParams(env, pkce().challenge) as Record<string, string>)}`,
      { redirect: "manual" },
    );
    expect(organizations.status).toBe(200);

    const tokenBadTenant = await fetch(new URL("/contoso.example/oauth2/v2.0/token", env.sim.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x" }),
    });
    expect(tokenBadTenant.status).toBe(400);
    const body = (await tokenBadTenant.json()) as { error: string; error_codes: number[]; error_description: string };
    expect(body.error).toBe("invalid_request");
    expect(body.error_codes).toEqual([90002]);
    expect(body.error_description).toMatch(/^AADSTS90002:/);

    // Microsoft has no revocation endpoint for these tokens.
    const revoke = await fetch(new URL("/common/oauth2/v2.0/revoke", env.sim.url), { method: "POST" });
    expect(revoke.status).toBe(404);
    await revoke.arrayBuffer();
  });

  it("Microsoft errors carry AADSTS codes", async () => {
    const env = await start("microsoft");
    const { code, verifier } = await authorize(env);
    await exchange(env, code, verifier);
    const reused = await exchange(env, code, verifier);
    expect(reused.json.error).toBe("invalid_grant");
    expect(reused.json.error_codes).toEqual([54005]);
    const wrongSecret = await exchange(env, code, verifier, { client_secret: "nope" });
    expect(wrongSecret.json.error_codes).toEqual([7000215]);
  });

  it("Google revocation: refresh or access token (body or query) revokes the grant; unknown → 400 invalid_token", async () => {
    const env = await start("google");
    const revokeUrl = new URL("/revoke", env.sim.url);

    const a = await connect(env);
    const res = await fetch(revokeUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: a.refresh_token as string }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expectOAuthError(await refresh(env, a.refresh_token as string), 400, "invalid_grant");
    expect((await userinfo(env, a.access_token as string)).status).toBe(401);

    // The form google-auth-library uses: token in the query string.
    const b = await connect(env);
    const viaQuery = await fetch(`${revokeUrl}?token=${encodeURIComponent(b.access_token as string)}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(viaQuery.status).toBe(200);
    await viaQuery.arrayBuffer();
    expectOAuthError(await refresh(env, b.refresh_token as string), 400, "invalid_grant");

    for (const token of ["unknown-token", a.refresh_token as string]) {
      const again = await fetch(revokeUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }),
      });
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({ error: "invalid_token", error_description: "Token expired or revoked" });
    }
    expect(env.def.oauth.counters()).toMatchObject({ revocationRequests: 4, revocations: 2 });
  });

  it("HoneyBook revocation (RFC 7009): client auth required, unknown tokens answer 200", async () => {
    const env = await start("honeybook");
    const revoke = (token: string, creds: [string, string] | null): Promise<Response> =>
      fetch(new URL("/oauth/revoke", env.sim.url), {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(creds ? { authorization: `Basic ${Buffer.from(creds.join(":")).toString("base64")}` } : {}),
        },
        body: new URLSearchParams({ token }),
      });
    const tokens = await connect(env);
    const noAuth = await revoke(tokens.refresh_token as string, null);
    expect(noAuth.status).toBe(401);
    expect(((await noAuth.json()) as { error: string }).error).toBe("invalid_client");
    const otherClient = await revoke(tokens.refresh_token as string, [OTHER_CLIENT.clientId, OTHER_CLIENT.clientSecret]);
    expect(otherClient.status).toBe(400);
    await otherClient.arrayBuffer();
    expect((await refresh(env, tokens.refresh_token as string)).status).toBe(200);

    const fresh = await connect(env);
    const ok = await revoke(fresh.refresh_token as string, [CLIENT.clientId, CLIENT.clientSecret]);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expectOAuthError(await refresh(env, fresh.refresh_token as string), 400, "invalid_grant");
    expect((await userinfo(env, fresh.access_token as string)).status).toBe(401);

    const unknown = await revoke("unknown-token", [CLIENT.clientId, CLIENT.clientSecret]);
    expect(unknown.status).toBe(200);
    await unknown.arrayBuffer();
    expect(env.def.oauth.counters()).toMatchObject({ revocationRequests: 4, revocations: 1 });
  });

  it("HoneyBook: reusing a rotated-away refresh token revokes the grant", async () => {
    const env = await start("honeybook");
    const tokens = await connect(env);
    const rotated = await refresh(env, tokens.refresh_token as string);
    expect(rotated.status).toBe(200);
    expectOAuthError(await refresh(env, tokens.refresh_token as string), 400, "invalid_grant");
    expectOAuthError(await refresh(env, rotated.json.refresh_token as string), 400, "invalid_grant");
    expect(env.def.oauth.grants()[0]!.revoked).toBe(true);
  });

  it("refreshTokenRotation can be overridden", async () => {
    const env = await start("google", { refreshTokenRotation: "rotate" });
    const tokens = await connect(env);
    const r = await refresh(env, tokens.refresh_token as string);
    expect(typeof r.json.refresh_token).toBe("string");
    expect(env.def.oauth.settings().refreshTokenRotation).toBe("rotate");
  });

  it("rejects bad configuration", () => {
    expect(() => createOAuthSimulator("google", { clients: [] })).toThrow(/at least one client/);
    expect(() => createOAuthSimulator("google", { clients: [{ ...CLIENT, redirectUris: ["/relative"] }] })).toThrow(
      /absolute URL/,
    );
    expect(() => createOAuthSimulator("google", { clients: [CLIENT, CLIENT] })).toThrow(/duplicate clientId/);
    expect(() => createOAuthSimulator("google", { clients: [CLIENT], accessTokenTtlSeconds: 0 })).toThrow(
      /accessTokenTtlSeconds/,
    );
    const def = createOAuthSimulator("google", { clients: [CLIENT] });
    expect(() => def.oauth.setAccessTokenTtl(1.5)).toThrow(/accessTokenTtlSeconds/);
  });
});

describe("OAuth simulators under the harness", () => {
  it("fault injection applies to OAuth endpoints", async () => {
    const env = await start("google");
    const tokens = await connect(env);
    env.sim.setFaults({ errorRate: 1 });
    const faulted = await refresh(env, tokens.refresh_token as string);
    expect(faulted.status).toBe(503);
    expect(faulted.json).toEqual({ error: { code: 503, message: "Injected fault by simulator google" } });
    env.sim.setFaults({ errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 4 });
    const limited = await refresh(env, tokens.refresh_token as string);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("4");
    env.sim.resetFaults();
    expect((await refresh(env, tokens.refresh_token as string)).status).toBe(200);
    // Faulted requests never reach the OAuth server, so they are not counted there.
    expect(env.def.oauth.counters().tokenRequests.refresh_token).toBe(1);
  });

  it("HTTP control routes under /__sim/oauth mirror the control object", async () => {
    const env = await start("microsoft");
    const ctl = (path: string, method = "GET", body?: unknown): Promise<Response> =>
      fetch(`${env.sim.url}/__sim/oauth${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const json = async (res: Response): Promise<Record<string, unknown>> => {
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      return (await res.json()) as Record<string, unknown>;
    };

    const info = await json(await ctl(""));
    expect(info).toMatchObject({ provider: "microsoft", paths: { token: "/common/oauth2/v2.0/token" } });
    expect(JSON.stringify(info)).not.toContain(CLIENT.clientSecret);

    const put = await ctl("/settings", "PUT", { accessTokenTtlSeconds: 120 });
    expect(put.status).toBe(200);
    expect(await json(put)).toMatchObject({ accessTokenTtlSeconds: 120 });
    expect((await ctl("/settings", "PUT", { accessTokenTtlSeconds: 0 })).status).toBe(400);
    expect((await ctl("/settings", "PUT", { accesTokenTtl: 5 })).status).toBe(400);

    const tokens = await connect(env);
    expect(tokens.expires_in).toBe(120);
    const stats = await json(await ctl("/stats"));
    expect(stats).toMatchObject({ tokenRequests: { authorization_code: 1, refresh_token: 0 }, revocations: 0 });

    const grants = (await (await ctl("/grants")).json()) as { refreshTokens: { token: string; status: string }[] }[];
    expect(grants[0]!.refreshTokens).toEqual([{ token: tokens.refresh_token, status: "active" }]);

    const expired = await json(await ctl("/access-tokens/expire", "POST", { userId: "user-1" }));
    expect(expired).toEqual({ expired: 1 });
    expect((await userinfo(env, tokens.access_token as string)).status).toBe(401);

    const revoked = await json(await ctl("/grants/revoke", "POST", { token: tokens.refresh_token }));
    expect(revoked).toEqual({ revoked: 1 });
    expectOAuthError(await refresh(env, tokens.refresh_token as string), 400, "invalid_grant");
    expect((await ctl("/grants/revoke", "POST", { tokn: "x" })).status).toBe(400);

    const second = await connect(env);
    expect(await json(await ctl("/refresh-tokens/expire", "POST", {}))).toEqual({ expired: 1 });
    expectOAuthError(await refresh(env, second.refresh_token as string), 400, "invalid_grant");

    const { code, verifier } = await authorize(env);
    expect(await json(await ctl("/clock/advance", "POST", { seconds: 61 }))).toEqual({ clockOffsetSeconds: 61 });
    expectOAuthError(await exchange(env, code, verifier), 400, "invalid_grant");

    const bad = await ctl("/clock/advance", "POST", "{nope");
    expect(bad.status).toBe(400);

    const reset = await json(await ctl("/reset", "POST"));
    expect(reset).toMatchObject({ accessTokenTtlSeconds: 3599, clockOffsetSeconds: 0 });
    expect(env.def.oauth.grants()).toEqual([]);
    expect(env.def.oauth.counters().tokenRequests.authorization_code).toBe(0);

    // Control routes are exempt from faults.
    env.sim.setFaults({ errorRate: 1 });
    expect((await ctl("/stats")).status).toBe(200);
  });
});

describe("sandbox registry", () => {
  it("registers google, microsoft and honeybook first, in a stable order, with the sandbox clients", async () => {
    expect(simulatorRegistry.map((d) => d.name).slice(0, 3)).toEqual(["google", "microsoft", "honeybook"]);
    expect(SANDBOX_OAUTH_CLIENTS.google).toEqual({
      clientId: "hub-sandbox-google",
      clientSecret: "hub-sandbox-google-secret",
      redirectUris: [
        "http://localhost:3000/oauth/callback/google-calendar",
        "http://127.0.0.1:3000/oauth/callback/google-calendar",
      ],
      name: expect.any(String),
    });
    expect(SANDBOX_OAUTH_CLIENTS.microsoft.redirectUris).toContain("http://localhost:3000/oauth/callback/outlook-calendar");
    expect(SANDBOX_OAUTH_CLIENTS.honeybook.redirectUris).toContain("http://127.0.0.1:3000/oauth/callback/honeybook");

    // The sandbox HoneyBook simulator accepts its sandbox client and shows the sandbox accounts.
    const def = sandboxOAuthSimulators.honeybook;
    const sim = await startSimulator(def);
    running.push(sim);
    const client = SANDBOX_OAUTH_CLIENTS.honeybook;
    const url = new URL("/oauth/authorize", sim.url);
    url.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: client.redirectUris[0]!,
      response_type: "code",
      code_challenge: pkce().challenge,
      code_challenge_method: "S256",
    }).toString();
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("vendor@sandbox.wedsync.test");
    expect(html).toContain("Lena Lumen");
    def.oauth.reset();
  });
});
