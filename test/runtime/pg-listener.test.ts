// The relays' LISTEN connection survives losing the database: terminated by
// the server, it reconnects, says so (the caller resyncs), and hears the next
// notification; stop() waits for work in flight before closing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type pg from "pg";
import type { Database } from "../../app/db.server";
import { createLogger } from "../../app/log.server";
import { listenWithReconnect } from "../../app/runtime/pg-listener.server";
import { openTestDatabase, testDatabaseUrl } from "../helpers/hub";
import { waitFor } from "../helpers/processes";

let database: Database;
beforeAll(() => {
  database = openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe("listenWithReconnect", () => {
  it("reconnects after the server ends its connection, reports it, and hears the next notification", async () => {
    const heard: string[] = [];
    let reconnects = 0;
    let drained = false;
    const listener = await listenWithReconnect({
      databaseUrl: testDatabaseUrl(),
      channels: ["test_listener"],
      log: createLogger("silent"),
      name: "test listener",
      onNotification: (msg: pg.Notification) => heard.push(msg.payload ?? ""),
      onReconnected: () => reconnects++,
      drain: async () => {
        drained = true;
      },
    });
    try {
      await database.db.execute(sql`select pg_notify('test_listener', 'before')`);
      await waitFor(async () => heard.includes("before"), "the first notification", 10_000);

      const killed = await database.db.execute<{ n: number }>(sql`select count(pg_terminate_backend(pid))::int as n
        from pg_stat_activity where datname = current_database() and query like 'LISTEN test_listener%'`);
      expect(killed.rows[0]!.n).toBe(1);
      await waitFor(async () => reconnects === 1, "the reconnect", 10_000);

      await database.db.execute(sql`select pg_notify('test_listener', 'after')`);
      await waitFor(async () => heard.includes("after"), "a notification after the reconnect", 10_000);
    } finally {
      await listener.stop();
    }
    expect(drained).toBe(true);
  });
});
