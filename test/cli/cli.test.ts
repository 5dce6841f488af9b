// The operators' CLI against the real test database.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { authenticateApiToken } from "../../app/auth/api-tokens.server";
import { signIn } from "../../app/auth/sign-in.server";
import { openTestDatabase, testDatabaseUrl, unique } from "../helpers/hub";

let database: Database;
beforeAll(() => {
  database = openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

function hub(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "cli/hub.ts", ...args], {
    env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("npm run hub", () => {
  it("prints help", () => {
    const run = hub("--help");
    expect(run.status).toBe(0);
    for (const cmd of ["migrate", "seed", "user create", "token create", "config check"]) expect(run.stdout).toContain(cmd);
  });

  it("migrates idempotently", () => {
    const run = hub("migrate");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Migrations applied.");
  });

  it("creates a user who can then sign in, and resets the password", async () => {
    const email = `${unique("cli")}@test.example`;
    const created = hub(
      "user",
      "create",
      "--email",
      email,
      "--name",
      "CLI Person",
      "--role",
      "ops",
      "--password",
      "cli-password-123",
    );
    expect(created.status).toBe(0);
    expect(created.stdout).toContain(`Created ops ${email}`);
    await expect(signIn(database.db, { email, password: "cli-password-123", ip: "cli-test" })).resolves.toMatchObject({
      user: { email },
    });

    const reset = hub("user", "password", "--email", email);
    expect(reset.status).toBe(0);
    const newPassword = /Password \(shown once\): (\S+)/.exec(reset.stdout)![1]!;
    await expect(signIn(database.db, { email, password: newPassword, ip: "cli-test" })).resolves.toMatchObject({
      user: { email },
    });
  });

  it("refuses invalid input with a message naming the field, writing nothing", async () => {
    const before = await database.db.execute<{ n: number }>(sql`select count(*)::int n from users`);
    const run = hub("user", "create", "--email", "not-an-email", "--role", "boss", "--password", "x");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("email: must be an email address");
    expect(run.stderr).toContain("role: must be admin, integration, ops or vendor");
    expect(run.stderr).toContain("password: must be at least 10 characters");
    const after = await database.db.execute<{ n: number }>(sql`select count(*)::int n from users`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("creates an API token printed once that authenticates, and revokes it", async () => {
    const run = hub("token", "create", "--name", "cli token", "--kind", "wedme", "--scopes", "core-fields:read,events:read");
    expect(run.status).toBe(0);
    const token = /Token \(shown once\): (\S+)/.exec(run.stdout)![1]!;
    const principal = await authenticateApiToken(database.db, token);
    expect(principal).toMatchObject({ kind: "wedme", scopes: ["core-fields:read", "events:read"] });
    const revoke = hub("token", "revoke", "--id", principal!.tokenId);
    expect(revoke.status).toBe(0);
    expect(await authenticateApiToken(database.db, token)).toBeNull();
  });

  it("rejects unknown commands with exit code 2", () => {
    const run = hub("frobnicate");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Unknown command "frobnicate"');
  });
});
