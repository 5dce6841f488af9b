// Token refresh across processes, against the Google OAuth simulator: two
// worker processes racing on one connection make exactly one refresh call,
// and invalid_grant turns the connection into "needs reconnect".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { connections } from "../../db/schema";
import { updateConnectorSettings } from "../../app/connectors/connections.server";
import { createOAuthSimulator } from "../../simulators/index";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, openTestDatabase, startTestHub, testActor, testDatabaseUrl } from "../helpers/hub";
import { spawnHub, waitFor, type HubProcess } from "../helpers/processes";

const CONNECTOR = "google-calendar";
let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let sim: RunningSimulator;
let google: ReturnType<typeof createOAuthSimulator>;
const workers: HubProcess[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
  google = createOAuthSimulator("google", {
    clients: [{ clientId: "race-client", clientSecret: "race-secret", redirectUris: [`${hub.url}/oauth/callback/${CONNECTOR}`] }],
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
  await hub?.stop();
  await sim?.close();
  await database?.close();
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

describe("token refresh by worker processes", () => {
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
  });
});
