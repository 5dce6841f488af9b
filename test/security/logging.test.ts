// Logs are structured JSON and never carry secrets: redaction by path, and
// nothing secret in the request log of a real sign-in.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../app/log.server";
import type { Database } from "../../app/db.server";
import { FormClient } from "../helpers/form-client";
import { makeUser, openTestDatabase, startTestHub } from "../helpers/hub";

function capture(): { stream: Writable; lines: () => string } {
  let out = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, lines: () => out };
}

describe("logger redaction", () => {
  it("redacts passwords, tokens, credentials and auth headers at any depth it is configured for", () => {
    const { stream, lines } = capture();
    const log = createLogger("info", stream);
    log.info(
      {
        password: "p@ss-1",
        user: { token: "tok-2" },
        credentials: { accessToken: "acc-3" },
        req: { headers: { authorization: "Bearer abc-4", cookie: "hub_session=cookie-5" } },
        refresh_token: "ref-6",
      },
      "test",
    );
    const text = lines();
    for (const secret of ["p@ss-1", "tok-2", "acc-3", "abc-4", "cookie-5", "ref-6"]) expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
    expect(() => JSON.parse(text.trim())).not.toThrow();
  });
});

describe("hub logs during a sign-in", () => {
  let database: Database;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const logs = capture();
  beforeAll(async () => {
    database = openTestDatabase();
    hub = await startTestHub({ logTo: logs.stream });
  });
  afterAll(async () => {
    await hub?.stop();
    await database?.close();
  });

  it("carry a request id per request and no password or session token", async () => {
    const { email, password } = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    await client.get("/console?token=should-not-be-logged");
    const text = logs.lines();
    expect(text).toContain('"msg":"request"');
    expect(text).toMatch(/"requestId":"[0-9a-f-]{36}"/);
    expect(text).not.toContain(password);
    expect(text).not.toContain(decodeURIComponent(client.cookie("hub_session")!));
    expect(text).not.toContain("should-not-be-logged");
  });
});
