// The sandbox world: enough real data for every screen. Built inside a
// transaction that is rolled back, so the shared test database stays clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { createWorld } from "../../app/seed/demo-world.server";
import { signIn } from "../../app/auth/sign-in.server";
import { openTestDatabase } from "../helpers/hub";

let database: Database;
beforeAll(() => {
  database = openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

class Rollback extends Error {}

describe("sandbox world", () => {
  it("creates staff, two vendor logins, 20 suppliers and 50 couples with core fields, events and connections", async () => {
    const checks = await database.db
      .transaction(async (tx) => {
        const before = await tx.execute<{ s: number; c: number }>(
          sql`select (select count(*)::int from suppliers) s, (select count(*)::int from couples) c`,
        );
        const creds = await createWorld(tx, { staffPassword: "staff-password-1", vendorPassword: "vendor-password-1" });
        const after = await tx.execute<{ s: number; c: number }>(
          sql`select (select count(*)::int from suppliers) s, (select count(*)::int from couples) c`,
        );
        const kinds = await tx.execute<{ n: number }>(sql`select count(distinct kind)::int n from suppliers`);
        const unlinked = await tx.execute<{ n: number }>(
          // Only this transaction's couples (now() is the transaction's start): other test files create couples too.
          sql`select count(*)::int n from couples c where c.created_at = now() and not exists (select 1 from supplier_couples sc where sc.couple_id = c.id)`,
        );
        const consistent = await tx.execute<{ n: number }>(
          sql`select count(*)::int n from core_fields cf join events e on e.couple_id = cf.couple_id and e.seq = cf.last_seq and e.version = cf.version`,
        );
        const vendor = await signIn(tx, { email: creds.vendors[0]!.email, password: "vendor-password-1", ip: "seed-test" });
        const vendorCouples = await tx.execute<{ n: number }>(
          sql`select count(*)::int n from supplier_couples where supplier_id = ${vendor.user.supplierId}`,
        );
        throw new Rollback(
          JSON.stringify({
            suppliers: after.rows[0]!.s - before.rows[0]!.s,
            couples: after.rows[0]!.c - before.rows[0]!.c,
            kinds: kinds.rows[0]!.n,
            unlinked: unlinked.rows[0]!.n,
            consistent: consistent.rows[0]!.n,
            staff: creds.staff.map((s) => s.role),
            vendorRole: vendor.user.role,
            vendorCouples: vendorCouples.rows[0]!.n,
          }),
        );
      })
      .then(
        () => null,
        (err: unknown) => {
          if (err instanceof Rollback) return JSON.parse(err.message) as Record<string, unknown>;
          throw err;
        },
      );
    expect(checks).not.toBeNull();
    expect(checks!.suppliers).toBe(20);
    expect(checks!.couples).toBe(50);
    expect(checks!.kinds).toBeGreaterThanOrEqual(10);
    expect(checks!.unlinked).toBe(0);
    expect(checks!.consistent).toBeGreaterThanOrEqual(50);
    expect(checks!.staff).toEqual(["admin", "integration", "ops"]);
    expect(checks!.vendorRole).toBe("vendor");
    expect(checks!.vendorCouples).toBeGreaterThanOrEqual(20);
  });
});
