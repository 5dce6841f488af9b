// The PostgreSQL token bucket shared by worker processes: concurrent acquirers
// from separate pools never get more than the bucket allows, refill follows the
// rate, and a provider's Retry-After blocks everyone until it has passed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { rateLimitBuckets } from "../../db/schema";
import { acquire, acquireWait, block } from "../../app/import/rate-limit.server";
import { openTestDatabase, unique } from "../helpers/hub";
import type { Database } from "../../app/db.server";

// Three pools stand in for three worker processes.
let pools: Database[] = [];
beforeAll(() => {
  pools = [openTestDatabase(), openTestDatabase(), openTestDatabase()];
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const dbAt = (i: number) => pools[i % pools.length]!.db;

describe("rate limiter (rate_limit_buckets)", () => {
  it("grants no more than the capacity to concurrent acquirers", async () => {
    const key = unique("bucket");
    // Refill so slow that no token comes back during the test.
    const settings = { capacity: 5, refillPerSecond: 0.0001 };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => acquire(dbAt(i), key, settings)));
    expect(results.filter((r) => r.granted)).toHaveLength(5);
    for (const r of results.filter((x) => !x.granted)) expect(r.waitMs).toBeGreaterThan(1000);
    const [row] = await dbAt(0).select().from(rateLimitBuckets).where(eq(rateLimitBuckets.key, key));
    expect(row!.tokens).toBeLessThan(1);
  });

  it("over a window grants at most capacity + refill × elapsed", async () => {
    const key = unique("bucket");
    const settings = { capacity: 3, refillPerSecond: 20 };
    let granted = 0;
    const started = Date.now();
    const until = started + 1000;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        while (Date.now() < until) {
          if ((await acquire(dbAt(i), key, settings)).granted) granted++;
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    expect(granted).toBeLessThanOrEqual(Math.floor(3 + 20 * elapsed) + 1);
    // ...and the limiter does not starve callers either.
    expect(granted).toBeGreaterThanOrEqual(10);
  });

  it("honours a provider's Retry-After for every caller", async () => {
    const key = unique("bucket");
    const settings = { capacity: 10, refillPerSecond: 10 };
    expect((await acquire(dbAt(0), key, settings)).granted).toBe(true);
    await block(dbAt(1), key, 1);
    const denied = await acquire(dbAt(2), key, settings);
    expect(denied.granted).toBe(false);
    expect(denied.waitMs).toBeGreaterThan(500);
    expect(denied.waitMs).toBeLessThanOrEqual(1000);
    const started = Date.now();
    await acquireWait(dbAt(0), key, settings);
    expect(Date.now() - started).toBeGreaterThanOrEqual(denied.waitMs - 50);
    // A shorter Retry-After never shortens a longer block already in place.
    await block(dbAt(0), key, 5);
    await block(dbAt(1), key, 1);
    expect((await acquire(dbAt(2), key, settings)).waitMs).toBeGreaterThan(3000);
  });

  it("acquireWait spaces callers out at the refill rate", async () => {
    const key = unique("bucket");
    const settings = { capacity: 2, refillPerSecond: 10 };
    const started = Date.now();
    await Promise.all(Array.from({ length: 7 }, (_, i) => acquireWait(dbAt(i), key, settings)));
    // 2 at once, the other 5 at 10 per second: about 500 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
