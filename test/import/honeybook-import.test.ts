// HoneyBook projects into WedSync: a real connection obtained through the hub's
// OAuth flow against the HoneyBook OAuth simulator (consent page and all), the
// HoneyBook API simulator accepting only that simulator's tokens, the import job
// run to the end. Exact counts on a first and a repeated run, one malformed
// project failing alone, an expired access token refreshed once (401 → refresh
// → carry on), a revoked grant failing the run with a reconnect message, and
// injected 429s waited out.
import * as cheerio from "cheerio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { connections, coreFields, importedRecords } from "../../db/schema";
import { updateConnectorSettings } from "../../app/connectors/connections.server";
import type { StoredTokens } from "../../app/oauth/tokens.server";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, startTestHub, testActor } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createOAuthSimulator, type OAuthSimulatorDefinition } from "../../simulators/oauth/index";
import { createHoneyBookApiSimulator, type HoneyBookApiSimulatorDefinition } from "../../simulators/honeybook-api/index";
import { coupleCount, importToEnd } from "./crm-helpers";

const USERS = [1, 2, 3, 4, 5].map((n) => ({
  id: `64f1a2b3c4d5e6f7a8b9c0e${n}`,
  email: `studio${n}@honeybook.test`,
  name: `Studio ${n}`,
  companyName: `Studio ${n} LLC`,
}));

let hub: Awaited<ReturnType<typeof startTestHub>>;
let oauthDef: OAuthSimulatorDefinition | null = null;
let oauthSim: RunningSimulator;
let apiDef: HoneyBookApiSimulatorDefinition;
let api: RunningSimulator;

beforeAll(async () => {
  // The API accepts exactly the tokens the OAuth simulator issued (it exists once the hub's URL is known).
  apiDef = createHoneyBookApiSimulator({
    pageSize: 20,
    authorize: (token) => {
      const check = oauthDef?.oauth.checkAccessToken(token);
      return check?.ok ? { ok: true, userId: check.userId } : { ok: false };
    },
  });
  api = await startSimulator(apiDef);
  hub = await startTestHub({ config: { providerApiRoots: { honeybook: api.url } } });
  oauthDef = createOAuthSimulator("honeybook", {
    clients: [
      { clientId: "hub-test-hb", clientSecret: "hub-test-hb-secret", redirectUris: [`${hub.url}/oauth/callback/honeybook`] },
    ],
    users: USERS,
  });
  oauthSim = await startSimulator(oauthDef);
  const endpoints = oauthDef.oauth.endpoints(oauthSim.url);
  await updateConnectorSettings(
    hub.ctx,
    "honeybook",
    { enabled: true, clientId: "hub-test-hb", clientSecret: "hub-test-hb-secret", scopes: ["projects:read", "contacts:read"] },
    testActor,
  );
  await hub.ctx.db.execute(
    sql`update connectors set settings = settings || ${JSON.stringify({
      issuer: oauthSim.url,
      endpoints: {
        authorizeUrl: endpoints.authorize,
        tokenUrl: endpoints.token,
        revokeUrl: endpoints.revoke,
        userinfoUrl: endpoints.userinfo,
      },
      // The hub's own limit (120/min) is not what these tests are about.
      rateLimit: { requests: 10_000, perSeconds: 1 },
    })}::jsonb where id = 'honeybook'`,
  );
});
afterAll(async () => {
  await hub?.stop();
  await oauthSim?.close();
  await api?.close();
});

/** A vendor connects HoneyBook as `userIndex` through the hub's real OAuth flow; returns the connection. */
async function connectVendor(userIndex: number) {
  const supplier = await makeSupplier(hub.ctx.db);
  const { email, password } = await makeUser(hub.ctx.db, "vendor", supplier.id);
  const client = new FormClient(hub.url);
  await client.signIn(email, password);
  await client.get("/vendor/connections");
  const start = await client.post("/vendor/connections", { intent: "connect", connectorId: "honeybook" });
  expect(start.status).toBe(302);
  const consent = await fetch(start.location!, { redirect: "manual" });
  expect(consent.status).toBe(200);
  const $ = cheerio.load(await consent.text());
  const form = $("form").first();
  const body = new URLSearchParams();
  form.find('input[type="hidden"]').each((_i, el) => {
    body.set($(el).attr("name")!, $(el).attr("value") ?? "");
  });
  body.set("account", USERS[userIndex]!.id);
  body.set("decision", "allow");
  const decided = await fetch(new URL(form.attr("action")!, oauthSim.url), { method: "POST", body, redirect: "manual" });
  expect(decided.status).toBe(302);
  const callback = new URL(decided.headers.get("location")!);
  const done = await client.get(callback.pathname + callback.search);
  expect(done.status).toBe(302);
  const [conn] = await hub.ctx.db.select().from(connections).where(eq(connections.supplierId, supplier.id));
  expect(conn).toMatchObject({ connectorId: "honeybook", status: "active", accountId: USERS[userIndex]!.id });
  return { supplierId: supplier.id, connectionId: conn!.id, userId: USERS[userIndex]!.id };
}

const tokensOf = async (connectionId: string) => {
  const [c] = await hub.ctx.db.select().from(connections).where(eq(connections.id, connectionId));
  return { row: c!, tokens: hub.ctx.vault.decryptJson<StoredTokens>(c!.credentialsEnc!) };
};

describe("HoneyBook import", () => {
  it("imports every project over several pages; a malformed one fails alone; a re-run is all unchanged", async () => {
    const { supplierId, connectionId, userId } = await connectVendor(0);
    apiDef.control.addAccount({ userId, count: 45, seed: 21, malformedEmail: [3] });
    const projects = apiDef.control.projects(userId);

    const first = await importToEnd(hub.ctx, connectionId);
    expect(first.status).toBe("succeeded");
    expect(first.counts).toEqual({ new: 44, updated: 0, unchanged: 0, failed: 1 });
    expect(first.done).toBe(45);
    expect(first.total).toBe(45);
    expect(first.cursor).toEqual({ next: null, pages: 3 });
    expect(first.errors).toEqual([
      {
        externalId: projects[3]!._id,
        reason: "partner1Email must be an email address like name@example.com",
        fields: { partner1Email: ["must be an email address like name@example.com"] },
      },
    ]);
    expect(await coupleCount(hub.ctx, supplierId)).toBe(44);
    // One list call per page, one details call per project.
    expect(apiDef.control.stats(userId)).toEqual({ listRequests: 3, detailRequests: 45 });

    // The couple holds what the mapping made of the details (the first client is partner 1).
    const p = projects[0]!;
    const [rec] = await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.externalId, p._id));
    const [cf] = await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, rec!.coupleId));
    const firstClient = (p.event_users as { system_user_type: string; full_name: string; email: string }[]).find(
      (u) => u.system_user_type === "client",
    )!;
    expect(cf!.fields.partner1Name).toBe(firstClient.full_name);
    expect(cf!.fields.partner1Email).toBe(firstClient.email);
    expect(cf!.fields.weddingDate).toBe(p.event_date);

    const second = await importToEnd(hub.ctx, connectionId);
    expect(second.status).toBe("succeeded");
    expect(second.counts).toEqual({ new: 0, updated: 0, unchanged: 44, failed: 1 });
    expect(await coupleCount(hub.ctx, supplierId)).toBe(44);
  });

  it("an expired access token is refreshed once on the 401 and the import carries on", async () => {
    const { supplierId, connectionId, userId } = await connectVendor(1);
    apiDef.control.addAccount({ userId, count: 25, seed: 22 });
    const before = await tokensOf(connectionId);
    const refreshesBefore = oauthDef!.oauth.counters().tokenRequests.refresh_token;
    const unauthorizedBefore = apiDef.control.unauthorized();
    expect(oauthDef!.oauth.expireAccessTokens({ token: before.tokens.accessToken })).toBe(1);

    const run = await importToEnd(hub.ctx, connectionId);
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 25, updated: 0, unchanged: 0, failed: 0 });
    expect(await coupleCount(hub.ctx, supplierId)).toBe(25);
    // One refresh for the whole run, however many requests saw the 401.
    expect(oauthDef!.oauth.counters().tokenRequests.refresh_token - refreshesBefore).toBe(1);
    expect(apiDef.control.unauthorized() - unauthorizedBefore).toBeGreaterThanOrEqual(1);
    const after = await tokensOf(connectionId);
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(after.row.lastRefreshedAt).not.toBeNull();
    expect(after.row.status).toBe("active");
  });

  it("a revoked grant fails the run with a reconnect message and marks the connection", async () => {
    const { connectionId, userId } = await connectVendor(2);
    apiDef.control.addAccount({ userId, count: 5, seed: 23 });
    const { tokens } = await tokensOf(connectionId);
    expect(oauthDef!.oauth.revokeGrants({ token: tokens.accessToken })).toBe(1);

    const run = await importToEnd(hub.ctx, connectionId);
    expect(run.status).toBe("failed");
    expect(run.counts).toEqual({ new: 0, updated: 0, unchanged: 0, failed: 0 });
    expect(run.errors).toEqual([{ externalId: null, reason: expect.stringMatching(/HoneyBook.*reconnect it/) }]);
    const [conn] = await hub.ctx.db.select().from(connections).where(eq(connections.id, connectionId));
    expect(conn!.status).toBe("needs_reconnect");
  });

  it("waits out injected 429s (Retry-After) and still imports everything", async () => {
    const { supplierId, connectionId, userId } = await connectVendor(3);
    apiDef.control.addAccount({ userId, count: 12, seed: 24 });
    api.setFaults({ rateLimitRate: 0.25, retryAfterSeconds: 1 });
    try {
      const run = await importToEnd(hub.ctx, connectionId);
      expect(run.status).toBe("succeeded");
      expect(run.counts).toEqual({ new: 12, updated: 0, unchanged: 0, failed: 0 });
      expect(api.stats().injectedRateLimits).toBeGreaterThan(0);
      expect(await coupleCount(hub.ctx, supplierId)).toBe(12);
    } finally {
      api.setFaults({ rateLimitRate: 0 });
    }
  });
});
