// The vendor OAuth flow against a strict, real authorization server
// (oidc-provider): PKCE, single-use state bound to the session, the code
// exchange, encrypted tokens, refresh with rotation, invalid_grant, revocation.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { connections, oauthStates } from "../../db/schema";
import { updateConnectorSettings } from "../../app/connectors/connections.server";
import { refreshConnectionToken, type StoredTokens } from "../../app/oauth/tokens.server";
import { FormClient } from "../helpers/form-client";
import { makeCouple, makeSupplier, makeUser, openTestDatabase, startTestHub, testActor, testDatabaseUrl } from "../helpers/hub";
import { startOidcServer, type OidcServer } from "../helpers/oidc-server";
import { spawnHub, waitFor, type HubProcess } from "../helpers/processes";
import { createOAuthSimulator } from "../../simulators/index";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator } from "../../simulators/google-calendar/index";
import { runCalendarSync } from "../../app/calendar/sync.server";

const CONNECTOR = "google-calendar";
let logs = "";
let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let oidc: OidcServer;
/** Google Calendar stand-in for the 401 → refresh test: accepts any token but the one Google "revoked". */
const STALE_ACCESS_TOKEN = "revoked-at-google";
const calendarSim = createGoogleCalendarSimulator({ authorize: (token) => token.length > 0 && token !== STALE_ACCESS_TOKEN });
let calendar: RunningSimulator;

beforeAll(async () => {
  calendar = await startSimulator(calendarSim);
  hub = await startTestHub({
    config: { providerApiRoots: { "google-calendar": `${calendar.url}/` } },
    logTo: new Writable({
      write(chunk: Buffer, _e, cb) {
        logs += chunk.toString();
        cb();
      },
    }),
  });
  database = openTestDatabase();
  oidc = await startOidcServer({
    clientId: "hub-test",
    clientSecret: "hub-test-secret",
    redirectUris: [`${hub.url}/oauth/callback/${CONNECTOR}`],
  });
  // Staff configure the connector: endpoints are configuration, the secret is encrypted.
  await updateConnectorSettings(
    hub.ctx,
    CONNECTOR,
    {
      enabled: true,
      clientId: "hub-test",
      clientSecret: "hub-test-secret",
      scopes: ["openid", "offline_access", "email", "profile"],
    },
    testActor,
  );
  await database.db.execute(
    sql`update connectors set settings = settings || ${JSON.stringify({
      issuer: oidc.issuer,
      endpoints: {
        authorizeUrl: `${oidc.issuer}/auth`,
        tokenUrl: `${oidc.issuer}/token`,
        revokeUrl: `${oidc.issuer}/token/revocation`,
        userinfoUrl: `${oidc.issuer}/me`,
      },
    })}::jsonb where id = ${CONNECTOR}`,
  );
});
afterAll(async () => {
  await hub?.stop();
  await calendar?.close();
  await oidc?.close();
  await database?.close();
});

async function vendor() {
  const supplier = await makeSupplier(database.db);
  const { email, password } = await makeUser(database.db, "vendor", supplier.id);
  const client = new FormClient(hub.url);
  await client.signIn(email, password);
  await client.get("/vendor/connections");
  return { supplier, client };
}

/** Start connecting in the hub, let the provider log in and consent, and return the callback URL it redirects to. */
async function authorize(client: FormClient): Promise<URL> {
  const start = await client.post("/vendor/connections", { intent: "connect", connectorId: CONNECTOR });
  expect(start.status).toBe(302);
  let location = new URL(start.location!);
  expect(location.origin).toBe(oidc.issuer);
  expect(location.searchParams.get("code_challenge_method")).toBe("S256");
  expect(location.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const jar = new Map<string, string>();
  for (let hops = 0; hops < 20; hops++) {
    if (location.origin !== oidc.issuer) return location;
    const res = await fetch(location, {
      redirect: "manual",
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    const next = res.headers.get("location");
    if (!next) throw new Error(`provider stopped at ${res.status}: ${(await res.text()).slice(0, 300)}`);
    location = new URL(next, location);
  }
  throw new Error("too many redirects");
}

const callbackPath = (u: URL) => u.pathname + u.search;
const countConnections = async (supplierId: string) =>
  (await database.db.execute<{ n: number }>(sql`select count(*)::int n from connections where supplier_id = ${supplierId}`))
    .rows[0]!.n;

describe("connecting an account", () => {
  it("completes the code flow with PKCE, records the identity and scopes, and stores tokens encrypted", async () => {
    const { supplier, client } = await vendor();
    const callback = await authorize(client);
    expect(callback.pathname).toBe(`/oauth/callback/${CONNECTOR}`);
    const done = await client.get(callbackPath(callback));
    expect(done.status).toBe(302);
    expect(done.location).toBe(`/vendor/connections?connected=${encodeURIComponent("ana@oidc.example")}`);
    const page = await client.get("/vendor/connections");
    expect(page.text).toContain("Connected as <!-- -->ana@oidc.example");

    const [row] = await database.db.select().from(connections).where(eq(connections.supplierId, supplier.id));
    expect(row).toMatchObject({
      status: "active",
      accountId: "acct-ana",
      accountLabel: "ana@oidc.example",
      connectorId: CONNECTOR,
    });
    expect(row!.scopes).toEqual(expect.arrayContaining(["openid", "offline_access", "email"]));
    const tokens = hub.ctx.vault.decryptJson<StoredTokens>(row!.credentialsEnc!);
    expect(tokens.accessToken.length).toBeGreaterThan(10);
    expect(tokens.refreshToken?.length).toBeGreaterThan(10);
    const raw = (
      await database.db.execute<{ t: string }>(sql`select row_to_json(c)::text t from connections c where id = ${row!.id}`)
    ).rows[0]!.t;
    expect(raw).not.toContain(tokens.accessToken);
    expect(raw).not.toContain(tokens.refreshToken!);
    expect(logs).not.toContain(tokens.accessToken);
    expect(logs).not.toContain(tokens.refreshToken!);
    // The refresh job is queued with the connection, one per connection.
    const jobs = await database.db.execute<{ n: number }>(
      sql`select count(*)::int n from graphile_worker._private_jobs where key = ${`refresh-token:${row!.id}`}`,
    );
    expect(jobs.rows[0]!.n).toBe(1);
  });

  it("refuses a missing, wrong, reused, expired or other-session state with 400 and stores nothing", async () => {
    const { supplier, client } = await vendor();
    const base = `/oauth/callback/${CONNECTOR}`;
    const missing = await client.get(`${base}?code=abc`);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("has no state");
    const wrong = await client.get(`${base}?code=abc&state=not-a-state-we-issued`);
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("does not match any connection we started");

    // Another browser session (another vendor) cannot complete this vendor's flow.
    const callback = await authorize(client);
    const other = await vendor();
    const stolen = await other.client.get(callbackPath(callback));
    expect(stolen.status).toBe(400);
    expect(stolen.text).toContain("started in another browser session");
    expect(await countConnections(other.supplier.id)).toBe(0);
    // The owner can still finish (the stranger's attempt did not burn the state)...
    expect((await client.get(callbackPath(callback))).status).toBe(302);
    expect(await countConnections(supplier.id)).toBe(1);
    // ...but only once.
    const reused = await client.get(callbackPath(callback));
    expect(reused.status).toBe(400);
    expect(reused.text).toContain("already used");

    const late = await authorize(client);
    await database.db
      .update(oauthStates)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(sql`${oauthStates.usedAt} is null`);
    const expired = await client.get(callbackPath(late));
    expect(expired.status).toBe(400);
    expect(expired.text).toContain("expired");

    expect(await countConnections(supplier.id)).toBe(1);
  });

  it("shows a message the vendor can act on when the code exchange fails", async () => {
    const { supplier, client } = await vendor();
    const callback = await authorize(client);
    callback.searchParams.set("code", "tampered-code");
    const res = await client.get(callbackPath(callback));
    expect(res.status).toBe(400);
    expect(res.text).toContain("did not accept the sign-in (invalid_grant");
    expect(res.text).toContain("Start again from Connections");
    expect(await countConnections(supplier.id)).toBe(0);
  });

  it("says so when the vendor declines at the provider", async () => {
    const { client } = await vendor();
    const start = await client.post("/vendor/connections", { intent: "connect", connectorId: CONNECTOR });
    const state = new URL(start.location!).searchParams.get("state")!;
    const res = await client.get(`/oauth/callback/${CONNECTOR}?error=access_denied&state=${state}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain("You declined access");
  });
});

describe("token lifecycle", () => {
  async function connected() {
    const v = await vendor();
    await v.client.get(callbackPath(await authorize(v.client)));
    const [row] = await database.db.select().from(connections).where(eq(connections.supplierId, v.supplier.id));
    return { ...v, connectionId: row!.id, tokens: hub.ctx.vault.decryptJson<StoredTokens>(row!.credentialsEnc!) };
  }

  it("refreshes (the provider rotates the refresh token); a reused old refresh token kills the grant and leads to needs reconnect", async () => {
    const { connectionId, tokens, client } = await connected();
    expect(await refreshConnectionToken(hub.ctx, connectionId)).toBe("not-due");
    expect(await refreshConnectionToken(hub.ctx, connectionId, { force: true })).toBe("refreshed");
    const [after] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    const fresh = hub.ctx.vault.decryptJson<StoredTokens>(after!.credentialsEnc!);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(fresh.refreshToken).not.toBe(tokens.refreshToken);
    expect(after!.lastRefreshedAt).not.toBeNull();

    // Someone replays the rotated-out refresh token: the server revokes the whole grant.
    const replay = await fetch(`${oidc.issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refreshToken!,
        client_id: "hub-test",
        client_secret: "hub-test-secret",
      }),
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");

    expect(await refreshConnectionToken(hub.ctx, connectionId, { force: true })).toBe("needs-reconnect");
    const [dead] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(dead!.status).toBe("needs_reconnect");
    expect(dead!.lastError).toContain("invalid_grant");
    const page = await client.get("/vendor/connections");
    expect(page.text).toContain("Needs reconnect");
    expect(page.text).toContain("Reconnect ");
  });

  it("a calendar sync that meets 401 refreshes the token once (at the real authorization server) and carries on", async () => {
    const { connectionId, supplier, tokens } = await connected();
    // Google stopped accepting the stored access token before it expired (revoked, rotated keys...).
    await database.db
      .update(connections)
      .set({ credentialsEnc: hub.ctx.vault.encryptJson({ ...tokens, accessToken: STALE_ACCESS_TOKEN }) })
      .where(eq(connections.id, connectionId));
    const coupleId = await makeCouple(database.db, [supplier.id], { weddingDate: "2027-05-01", partner1Name: "Refresh" });

    const outcome = await runCalendarSync(hub.ctx, connectionId, { pull: false });
    expect(outcome).toMatchObject({ status: "synced", refreshed: 1, push: { inserted: 1 } });
    const [after] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    const fresh = hub.ctx.vault.decryptJson<StoredTokens>(after!.credentialsEnc!);
    expect(fresh.accessToken).not.toBe(STALE_ACCESS_TOKEN);
    expect(after!.status).toBe("active");
    const hubKeys = calendarSim.control
      .events("primary")
      .map((e) => (e.extendedProperties as { private?: { hubKey?: string } } | undefined)?.private?.hubKey);
    expect(hubKeys).toContain(`${coupleId}:ceremony`);
  });

  it("disconnecting revokes at the provider and deletes the secrets; another vendor cannot see or disconnect it", async () => {
    const { connectionId, tokens, client, supplier } = await connected();
    const stranger = await vendor();
    const strangerPage = await stranger.client.get("/vendor/connections");
    expect(strangerPage.text).not.toContain(connectionId);
    const attempt = await stranger.client.post("/vendor/connections", { intent: "disconnect", connectionId });
    expect(attempt.status).toBe(404);
    const [still] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(still!.status).toBe("active");

    const res = await client.post("/vendor/connections", { intent: "disconnect", connectionId });
    expect(res.status).toBe(302);
    const [gone] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(gone).toMatchObject({ status: "disconnected", credentialsEnc: null, supplierId: supplier.id });
    const reuse = await fetch(`${oidc.issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refreshToken!,
        client_id: "hub-test",
        client_secret: "hub-test-secret",
      }),
    });
    expect(reuse.status).toBe(400);
    const jobs = await database.db.execute<{ n: number }>(
      sql`select count(*)::int n from graphile_worker._private_jobs where key = ${`refresh-token:${connectionId}`}`,
    );
    expect(jobs.rows[0]!.n).toBe(0);
  });
});

// Against the Google OAuth simulator, with real worker processes. These share the
// connector row with the tests above, so they live in this file (files run in parallel).
describe("token refresh by worker processes", () => {
  let sim: RunningSimulator;
  let google: ReturnType<typeof createOAuthSimulator>;
  const workers: HubProcess[] = [];

  beforeAll(async () => {
    google = createOAuthSimulator("google", {
      clients: [
        { clientId: "race-client", clientSecret: "race-secret", redirectUris: [`${hub.url}/oauth/callback/${CONNECTOR}`] },
      ],
      users: [{ id: "111", email: "lena@race.example", name: "Lena" }],
    });
    sim = await startSimulator(google);
    const ep = google.oauth.endpoints(sim.url);
    await updateConnectorSettings(
      hub.ctx,
      CONNECTOR,
      { enabled: true, clientId: "race-client", clientSecret: "race-secret" },
      testActor,
    );
    await database.db.execute(
      sql`update connectors set settings = settings || ${JSON.stringify({
        issuer: sim.url,
        endpoints: { authorizeUrl: ep.authorize, tokenUrl: ep.token, revokeUrl: ep.revoke, userinfoUrl: ep.userinfo },
      })}::jsonb where id = ${CONNECTOR}`,
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await sim?.close();
  });

  /** A vendor connects through the simulator's consent page (Allow), as a person would. */
  async function connect(): Promise<string> {
    const supplier = await makeSupplier(database.db);
    const { email, password } = await makeUser(database.db, "vendor", supplier.id);
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    await client.get("/vendor/connections");
    const start = await client.post("/vendor/connections", { intent: "connect", connectorId: CONNECTOR });
    const consentUrl = new URL(start.location!);
    const consent = await (await fetch(consentUrl)).text();
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(consent)![1]!.replace(/&amp;/g, "&"), consentUrl);
    const interaction = /name="interaction" value="([^"]+)"/.exec(consent)![1]!;
    const allow = await fetch(action, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ interaction, account: "111", decision: "allow" }),
    });
    const back = new URL(allow.headers.get("location")!);
    const done = await client.get(back.pathname + back.search);
    expect(done.location).toContain("/vendor/connections?connected=");
    const [row] = await database.db.select().from(connections).where(eq(connections.supplierId, supplier.id));
    return row!.id;
  }

  const pendingRefreshJobs = async (connectionId: string) =>
    (
      await database.db.execute<{ n: number }>(
        sql`select count(*)::int n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'refresh_connection_token' and j.payload->>'connectionId' = ${connectionId} and j.run_at <= now()`,
      )
    ).rows[0]!.n;

  async function queueRaceJobs(connectionId: string, count: number) {
    // Without a job key, as if two schedulers (or a retry and a schedule) queued it at once.
    for (let i = 0; i < count; i++) {
      await database.db.execute(
        sql`select graphile_worker.add_job('refresh_connection_token', ${JSON.stringify({ connectionId })}::json)`,
      );
    }
  }

  it("two workers racing on one connection make exactly one refresh call; invalid_grant leads to needs reconnect", async () => {
    const connectionId = await connect();
    expect(google.oauth.counters().tokenRequests.authorization_code).toBe(1);
    // Make the token due for refresh.
    await database.db
      .update(connections)
      .set({ tokenExpiresAt: new Date(Date.now() + 60_000) })
      .where(eq(connections.id, connectionId));

    const key = hub.ctx.config.encryptionKeys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
    const env = { DATABASE_URL: testDatabaseUrl(), HUB_ENCRYPTION_KEYS: key, WORKER_CONCURRENCY: "4" };
    await queueRaceJobs(connectionId, 4);
    workers.push(spawnHub(["--role=worker"], env), spawnHub(["--role=worker"], env));
    await waitFor(async () => workers.every((w) => w.output().includes("workers started")), "two workers", 60_000);
    await waitFor(async () => (await pendingRefreshJobs(connectionId)) === 0, "refresh jobs to finish", 30_000);

    expect(google.oauth.counters().tokenRequests.refresh_token).toBe(1);
    const [after] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(after!.status).toBe("active");
    expect(after!.lastRefreshedAt).not.toBeNull();
    expect(after!.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    const outcomes = workers.map((w) => (w.output().match(/"outcome":"(\w[\w-]*)"/g) ?? []).join(",")).join(",");
    expect(outcomes.match(/refreshed/g)).toHaveLength(1);

    // The provider revokes the grant: the next refresh gets invalid_grant.
    expect(google.oauth.revokeGrants({ clientId: "race-client" })).toBeGreaterThan(0);
    await database.db
      .update(connections)
      .set({ tokenExpiresAt: new Date(Date.now() + 60_000) })
      .where(eq(connections.id, connectionId));
    await queueRaceJobs(connectionId, 1);
    await waitFor(
      async () =>
        (await database.db.select().from(connections).where(eq(connections.id, connectionId)))[0]!.status === "needs_reconnect",
      "needs_reconnect",
      30_000,
    );
    const [dead] = await database.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(dead!.lastError).toContain("invalid_grant");
    // Two worker processes start before the race: on a loaded 2-core machine that alone can take most of a minute.
  }, 180_000);
});
