// Bad configuration stops start-up with a message naming the variable.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "../../app/config.server";

function problems(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("parseEnv", () => {
  it("accepts an empty environment (sandbox defaults)", () => {
    const env = parseEnv({});
    expect(env.HUB_MODE).toBe("sandbox");
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: "abc" }, /^PORT must be a port number \(got "abc"\)/],
    [{ PORT: "70000" }, /^PORT must be between 0 and 65535/],
    [{ DATABASE_URL: "mysql://x" }, /^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ HUB_MODE: "staging" }, /^HUB_MODE must be "sandbox" or "production"/],
    [{ WORKER_CONCURRENCY: "many" }, /^WORKER_CONCURRENCY must be a number/],
    [{ HUB_ENCRYPTION_KEYS: "k1:short" }, /^HUB_ENCRYPTION_KEYS must be a comma-separated list/],
    [{ SESSION_SECRET: "short" }, /^SESSION_SECRET must be at least 32 characters$/],
  ])("names the variable for %o", (env, message) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it("never echoes secret values in its messages", () => {
    const [message] = problems({ SESSION_SECRET: "hunter2-very-secret" });
    expect(message).not.toContain("hunter2");
  });

  it("requires the database, keys and session secret in production", () => {
    expect(problems({ HUB_MODE: "production" })).toEqual([
      "DATABASE_URL is required when HUB_MODE=production",
      "HUB_ENCRYPTION_KEYS is required when HUB_MODE=production",
      "SESSION_SECRET is required when HUB_MODE=production",
    ]);
  });
});

describe("start-up with bad configuration", () => {
  it("exits non-zero and names the variable", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "server.ts"], {
      env: { ...process.env, PORT: "not-a-port", DATABASE_URL: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('PORT must be a port number (got "not-a-port")');
    expect(run.stderr).toContain(".env.example");
  });

  it("the CLI's config check fails the same way", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "cli/hub.ts", "config", "check"], {
      env: { ...process.env, HUB_MODE: "production", DATABASE_URL: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("DATABASE_URL is required when HUB_MODE=production");
  });
});
