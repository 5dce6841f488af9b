// The PostgreSQL token bucket shared by worker processes: concurrent acquirers
// from separate pools never get more than the bucket allows, refill follows the
// rate, and a provider's Retry-After blocks everyone until it has passed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { rateLimitBuckets } from "../../db/schema";
import { acquire, acquireWait, block, LeasedBucket } from "../../app/import/rate-limit.server";
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

  it("leases: processes share one bucket, spend local tokens, renew one at a time and never exceed it", async () => {
    const key = unique("bucket");
    // 2,000 a minute: leases of 50 tokens (a twentieth, capped at 50); the refill adds ~33/s.
    const settings = { capacity: 2000, refillPerSecond: 2000 / 60 };
    let renewals = 0;
    const counting = pools.map((p) => {
      const db = p.db;
      return new Proxy(db, {
        get(target, prop, receiver) {
          if (prop === "transaction") renewals++;
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    });
    const leases = counting.map(() => new LeasedBucket(key));
    // 600 concurrent deliveries per process, three processes.
    const results = await Promise.all(Array.from({ length: 1800 }, (_, i) => leases[i % 3]!.take(counting[i % 3]!, settings)));
    const granted = results.filter((r) => r.granted).length;
    expect(granted).toBeLessThanOrEqual(2000 + 100); // the capacity plus what refilled meanwhile, generously
    expect(granted).toBe(1800); // and nobody was refused while the bucket had tokens
    // A herd of callers waits for one renewal instead of each leasing: 1800 / 50 renewals (+ creating the bucket), not 1800.
    expect(renewals).toBeLessThanOrEqual(1800 / 50 + 6);

    // A small allowance: leases of one token, so the limit holds exactly.
    const small = unique("bucket");
    const tiny = { capacity: 5, refillPerSecond: 0.0001 };
    const few = await Promise.all(Array.from({ length: 20 }, (_, i) => new LeasedBucket(small).take(dbAt(i), tiny)));
    expect(few.filter((r) => r.granted)).toHaveLength(5);
  });
});
