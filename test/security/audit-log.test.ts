// The audit log is append-only in the database itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { makeUser, openTestDatabase } from "../helpers/hub";

let database: Database;
beforeAll(() => {
  database = openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe("audit log", () => {
  it("records user creation with the after state, and refuses UPDATE and DELETE", async () => {
    const { user } = await makeUser(database.db, "ops");
    const rows = await database.db.execute<{ id: number; action: string; after: { email: string } }>(
      sql`select id, action, after from audit_log where entity_id = ${user.id} and action = 'user.create'`,
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.after.email).toBe(user.email);
    const id = rows.rows[0]!.id;
    await expect(database.db.execute(sql`update audit_log set action = 'x' where id = ${id}`)).rejects.toMatchObject({
      cause: { message: expect.stringContaining("append-only") },
    });
    await expect(database.db.execute(sql`delete from audit_log where id = ${id}`)).rejects.toMatchObject({
      cause: { message: expect.stringContaining("append-only") },
    });
    const after = await database.db.execute<{ action: string }>(sql`select action from audit_log where id = ${id}`);
    expect(after.rows[0]!.action).toBe("user.create");
  });
});
