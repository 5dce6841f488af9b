// The mapping preview through the real console: a runaway expression ends
// with a clear error within the limit, and the next request is served normally.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db.server";
import { PREVIEW_GUARDS } from "../../app/mapping/preview.server";
import { FormClient } from "../helpers/form-client";
import { makeUser, openTestDatabase, startTestHub } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let client: FormClient;

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
  const { email, password } = await makeUser(database.db, "integration");
  client = new FormClient(hub.url);
  await client.signIn(email, password);
  await client.get("/console");
});
afterAll(async () => {
  await hub?.stop();
  await database?.close();
});

const preview = async (expression: string, input: unknown, target = "core-fields") => {
  const res = await client.post("/console/mappings/any/preview", { expression, input: JSON.stringify(input), target });
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
};

describe("mapping preview over HTTP", () => {
  it("stops an endless expression with a clear error within the time limit, then serves the next request normally", async () => {
    const started = Date.now();
    const endless = await preview("($loop := function($n) { $loop($n + 1) }; $loop(0))", {});
    const elapsed = Date.now() - started;
    expect(endless.status).toBe(200);
    expect(endless.body).toMatchObject({ kind: "evaluation-error", code: "D1012" });
    expect(String(endless.body.message)).toContain("ran longer than its time limit");
    expect(elapsed).toBeLessThan(PREVIEW_GUARDS.timeoutMs + 4000);

    const [health, next] = await Promise.all([
      fetch(`${hub.url}/healthz`),
      preview('{ "guestCount": $guestCount(guests) }', { guests: "120-150" }),
    ]);
    expect(health.status).toBe(200);
    expect(next.body).toMatchObject({ kind: "output", output: { guestCount: 150 }, errors: null });
  });

  it("answers a syntax error with its position, and names a missing required field", async () => {
    const syntax = await preview('{ "guestCount": guests[ }', {});
    expect(syntax.body).toMatchObject({ kind: "syntax-error", line: 1 });
    expect(syntax.body.position).toEqual(expect.any(Number));
    expect(String(syntax.body.message)).toMatch(/^Syntax error at line 1, column \d+/);

    const missing = await preview('{ "externalId": id, "source": "tave" }', { id: "7" }, "wedsync-client");
    expect(missing.body).toMatchObject({
      kind: "output",
      errors: { partner1Name: ["is required but the mapping produced nothing for it"] },
    });
  });

  it("refuses a preview without the CSRF token", async () => {
    const res = await client.post(
      "/console/mappings/any/preview",
      { expression: "1", input: "{}", target: "core-fields" },
      { withCsrf: false },
    );
    expect(res.status).toBe(403);
  });
});
