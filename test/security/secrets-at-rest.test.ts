// Secrets at rest: the vault's ciphertext format, tamper detection, key
// rotation, and raw columns read straight from PostgreSQL holding no plaintext.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { createVault } from "../../app/crypto/secrets.server";
import type { Database } from "../../app/db.server";
import { connections, webhookEndpoints, connectors } from "../../db/schema";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { createSession } from "../../app/auth/sessions.server";
import { makeSupplier, makeUser, openTestDatabase, testActor } from "../helpers/hub";

const key = (id: string) => ({ id, key: crypto.randomBytes(32) });

describe("vault", () => {
  it("round-trips and never repeats a ciphertext", () => {
    const vault = createVault([key("k1")]);
    const a = vault.encrypt("refresh-token-123");
    const b = vault.encrypt("refresh-token-123");
    expect(a).not.toBe(b);
    expect(a).not.toContain("refresh-token-123");
    expect(vault.decrypt(a)).toBe("refresh-token-123");
    expect(vault.decryptJson(vault.encryptJson({ access: "x" }))).toEqual({ access: "x" });
  });

  it("detects tampering and relabelled key ids", () => {
    const vault = createVault([key("k1"), key("k2")]);
    const c = vault.encrypt("secret");
    const parts = c.split(".");
    const flipped = [...parts];
    flipped[4] = Buffer.from(Buffer.from(parts[4]!, "base64url").map((b, i) => (i === 0 ? b ^ 1 : b))).toString("base64url");
    expect(() => vault.decrypt(flipped.join("."))).toThrow();
    const relabelled = [...parts];
    relabelled[1] = "k2";
    expect(() => vault.decrypt(relabelled.join("."))).toThrow();
  });

  it("rotates keys: new writes use the first key, old ciphertexts still decrypt", () => {
    const old = key("old");
    const fresh = key("new");
    const before = createVault([old]).encrypt("api-key-abc");
    const rotated = createVault([fresh, old]);
    expect(rotated.decrypt(before)).toBe("api-key-abc");
    expect(rotated.keyIdOf(rotated.encrypt("x"))).toBe("new");
    expect(() => createVault([fresh]).decrypt(before)).toThrow(/HUB_ENCRYPTION_KEYS/);
  });
});

describe("raw secret columns", () => {
  let database: Database;
  beforeAll(() => {
    database = openTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it("hold no plaintext for passwords, sessions, API tokens, credentials and webhook secrets", async () => {
    const vault = createVault([key("k1")]);
    const db = database.db;
    const supplier = await makeSupplier(db);
    const { user, password } = await makeUser(db, "vendor", supplier.id);
    const { token: sessionToken } = await createSession(db, user.id);
    const { token: apiToken, principal } = await createApiToken(
      db,
      { name: "raw column test", kind: "wedsync", scopes: ["core-fields:read"] },
      testActor,
    );
    const oauth = { accessToken: "ya29.plain-access-token-value", refreshToken: "1//plain-refresh-token-value" };
    const [conn] = await db
      .insert(connections)
      .values({ supplierId: supplier.id, connectorId: "google-calendar", credentialsEnc: vault.encryptJson(oauth) })
      .returning();
    const webhookSecret = "whsec_plainwebhooksecretvalue";
    const [endpoint] = await db
      .insert(webhookEndpoints)
      .values({
        direction: "out",
        supplierId: supplier.id,
        name: "raw test",
        url: "https://example.test/h",
        secretEnc: vault.encrypt(webhookSecret),
      })
      .returning();
    const connectorId = `raw-test-${principal.tokenId.slice(0, 8)}`;
    await db
      .insert(connectors)
      .values({ id: connectorId, secretsEnc: vault.encryptJson({ clientSecret: "plain-client-secret" }) });

    // Read every row of every table as text, the way someone with database access would.
    const dump = await db.execute<{ t: string }>(sql`
      select row_to_json(u)::text as t from users u where id = ${user.id}
      union all select row_to_json(s)::text from sessions s where user_id = ${user.id}
      union all select row_to_json(a)::text from api_tokens a where id = ${principal.tokenId}
      union all select row_to_json(c)::text from connections c where id = ${conn!.id}
      union all select row_to_json(w)::text from webhook_endpoints w where id = ${endpoint!.id}
      union all select row_to_json(k)::text from connectors k where id = ${connectorId}
      union all select row_to_json(l)::text from audit_log l`);
    const text = dump.rows.map((r) => r.t).join("\n");
    for (const plain of [
      password,
      sessionToken,
      apiToken,
      oauth.accessToken,
      oauth.refreshToken,
      webhookSecret,
      "plain-client-secret",
    ]) {
      expect(text).not.toContain(plain);
    }
    // ...and the ciphertext still opens with the key.
    const [stored] = await db.select().from(connections).where(eq(connections.id, conn!.id));
    expect(vault.decryptJson(stored!.credentialsEnc!)).toEqual(oauth);
  });
});
