// Connecting with an app-specific password (Apple Calendar over CalDAV),
// tested against Radicale, a real CalDAV server: nothing is stored unless the test passes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { connections } from "../../db/schema";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, openTestDatabase, startTestHub } from "../helpers/hub";
import { startRadicale, type Radicale } from "../helpers/radicale";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let radicale: Radicale;

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
  radicale = await startRadicale({ lena: "abcd-efgh-ijkl-mnop" });
});
afterAll(async () => {
  await hub?.stop();
  await radicale?.stop();
  await database?.close();
});

describe("key and password connections", () => {
  it("tests the CalDAV sign-in, refuses a wrong password and an incomplete form, and stores only a tested, encrypted connection", async () => {
    const supplier = await makeSupplier(database.db);
    const { email, password } = await makeUser(database.db, "vendor", supplier.id);
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const page = await client.get("/vendor/connections");
    expect(page.text).toContain("Connect with a key or password");
    const form = (fields: Record<string, string>, intent: string) =>
      client.post("/vendor/connections", {
        intent,
        connectorId: "apple-calendar",
        ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`field:${k}`, v])),
      });

    const incomplete = await form({ serverUrl: radicale.url, username: "lena", password: "" }, "test-credentials");
    expect(incomplete.status).toBe(422);
    expect(incomplete.text).toContain("App-specific password is required");

    const wrong = await form({ serverUrl: radicale.url, username: "lena", password: "wrong-pass" }, "save-credentials");
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain("refused that Apple ID and app-specific password");
    const stored = () => database.db.select().from(connections).where(eq(connections.supplierId, supplier.id));
    expect(await stored()).toHaveLength(0);

    const ok = await form({ serverUrl: radicale.url, username: "lena", password: "abcd-efgh-ijkl-mnop" }, "test-credentials");
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("Signed in; 0 calendar(s) found.");
    expect(await stored()).toHaveLength(0);

    const saved = await form({ serverUrl: radicale.url, username: "lena", password: "abcd-efgh-ijkl-mnop" }, "save-credentials");
    expect(saved.status).toBe(302);
    expect(saved.location).toBe("/vendor/connections?connected=lena");
    const [row] = await stored();
    expect(row).toMatchObject({ connectorId: "apple-calendar", accountLabel: "lena", status: "active" });
    expect(hub.ctx.vault.decryptJson(row!.credentialsEnc!)).toEqual({
      serverUrl: radicale.url,
      username: "lena",
      password: "abcd-efgh-ijkl-mnop",
    });
    const raw = (
      await database.db.execute<{ t: string }>(sql`select row_to_json(c)::text t from connections c where id = ${row!.id}`)
    ).rows[0]!.t;
    expect(raw).not.toContain("abcd-efgh-ijkl-mnop");
  });
});
