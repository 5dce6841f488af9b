// The JSON API's boundary: bearer tokens, scopes, revocation and bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db.server";
import { createApiToken, revokeApiToken } from "../../app/auth/api-tokens.server";
import { openTestDatabase, startTestHub, testActor } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
});
afterAll(async () => {
  await hub?.stop();
  await database?.close();
});

const ping = (token: string | null, body: string) =>
  fetch(`${hub.url}/api/v1/diagnostics/ping`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

describe("/api/v1 authentication", () => {
  it("answers 401 with a message without a token, with an unknown token and with a revoked one", async () => {
    const none = await ping(null, "{}");
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);

    expect((await ping("whub_abc_notarealtoken", "{}")).status).toBe(401);

    const { token, principal } = await createApiToken(
      database.db,
      { name: "to revoke", kind: "ops", scopes: ["ops"] },
      testActor,
    );
    expect((await ping(token, "{}")).status).toBe(202);
    await revokeApiToken(database.db, principal.tokenId, testActor);
    const revoked = await ping(token, "{}");
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
  });

  it("answers 403 when the token lacks the scope", async () => {
    const { token } = await createApiToken(
      database.db,
      { name: "reader", kind: "wedme", scopes: ["core-fields:read"] },
      testActor,
    );
    const res = await ping(token, "{}");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('"ops" scope');
  });

  it("answers 400 for malformed JSON and 422 naming the field for invalid values", async () => {
    const { token } = await createApiToken(database.db, { name: "bad input", kind: "ops", scopes: ["ops"] }, testActor);
    const malformed = await ping(token, "{not json");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    const invalid = await ping(token, JSON.stringify({ count: 5000 }));
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as { error: { fields: Record<string, string[]> } };
    expect(body.error.fields.count).toEqual(["must be at most 1000"]);
  });

  it("answers 404 with a pointer for unknown API routes", async () => {
    const res = await fetch(`${hub.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("No API route GET /nope");
  });
});

describe("health", () => {
  it("serves /healthz and /readyz with the database and migrations checked", async () => {
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe("ready");
    expect(body.checks.database?.ok).toBe(true);
    expect(body.checks.migrations?.ok).toBe(true);
  });
});
