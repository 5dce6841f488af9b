// A token bucket in PostgreSQL (rate_limit_buckets), shared by every worker
// process: a provider's per-account limit holds however many workers import at
// once. Each acquire is one short transaction that locks the bucket's row, so
// concurrent acquirers are serialised by PostgreSQL and never over-grant.
// Time comes from the database clock (clock_timestamp(), read after the lock),
// so processes with skewed clocks still agree.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";

export interface BucketSettings {
  /** Tokens in a full bucket (the burst). */
  capacity: number;
  /** Tokens added per second (a provider's "100 per minute" is 100 / 60). */
  refillPerSecond: number;
}

export interface AcquireResult {
  granted: boolean;
  /** How long to wait before trying again (0 when granted). */
  waitMs: number;
}

/** Settings for a provider limit of `requests` per `perSeconds` (bucket = the whole allowance). */
export function bucketFor(limit: { requests: number; perSeconds: number }): BucketSettings {
  return { capacity: limit.requests, refillPerSecond: limit.requests / limit.perSeconds };
}

/** Take one token if there is one; else say how long until there will be (or until a Retry-After ends). */
export async function acquire(db: DbOrTx, key: string, settings: BucketSettings): Promise<AcquireResult> {
  const { capacity, refillPerSecond } = settings;
  if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new Error("rate limit: capacity must be >= 1 and refill > 0");
  return db.transaction(async (tx) => {
    // A new key starts full; `on conflict do nothing` makes racing first acquirers meet on the same row.
    await tx.execute(sql`insert into rate_limit_buckets (key, tokens, refilled_at)
                         values (${key}, ${capacity}, clock_timestamp()) on conflict (key) do nothing`);
    const locked = await tx.execute<{ tokens: number; refilled_at: Date; blocked_until: Date | null }>(
      sql`select tokens, refilled_at, blocked_until from rate_limit_buckets where key = ${key} for update`,
    );
    const row = locked.rows[0]!;
    // Read the clock only once the lock is ours: a waiter must not use the time it started waiting.
    const clock = await tx.execute<{ now: Date }>(sql`select clock_timestamp() as now`);
    const now = new Date(clock.rows[0]!.now).getTime();
    const blockedUntil = row.blocked_until ? new Date(row.blocked_until).getTime() : 0;
    if (blockedUntil > now) return { granted: false, waitMs: blockedUntil - now };

    const elapsed = Math.max(0, now - new Date(row.refilled_at).getTime()) / 1000;
    const tokens = Math.min(capacity, Number(row.tokens) + elapsed * refillPerSecond);
    const granted = tokens >= 1;
    const left = granted ? tokens - 1 : tokens;
    await tx.execute(sql`update rate_limit_buckets set tokens = ${left}, refilled_at = ${new Date(now).toISOString()}::timestamptz
                         where key = ${key}`);
    return granted ? { granted, waitMs: 0 } : { granted, waitMs: Math.ceil(((1 - tokens) / refillPerSecond) * 1000) };
  });
}

/**
 * Honour a provider's Retry-After: nobody takes a token for this key before
 * then. The bucket is also emptied, so the calls resuming afterwards ramp up
 * from the refill rate instead of bursting straight into the same limit.
 */
export async function block(db: DbOrTx, key: string, retryAfterSeconds: number): Promise<void> {
  const seconds = Math.max(0, Math.min(retryAfterSeconds, 3600));
  await db.execute(sql`
    insert into rate_limit_buckets (key, tokens, refilled_at, blocked_until)
    values (${key}, 0, clock_timestamp(), clock_timestamp() + make_interval(secs => ${seconds}))
    on conflict (key) do update set
      tokens = 0,
      refilled_at = greatest(rate_limit_buckets.refilled_at, clock_timestamp() + make_interval(secs => ${seconds})),
      blocked_until = greatest(coalesce(rate_limit_buckets.blocked_until, clock_timestamp()), excluded.blocked_until)`);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      },
      { once: true },
    );
  });

/** Wait until a token is granted (sleeping as long as the bucket says). Returns the total time waited. */
export async function acquireWait(
  db: DbOrTx,
  key: string,
  settings: BucketSettings,
  opts: { signal?: AbortSignal; maxWaitMs?: number } = {},
): Promise<number> {
  let waited = 0;
  for (;;) {
    const r = await acquire(db, key, settings);
    if (r.granted) return waited;
    if (opts.maxWaitMs !== undefined && waited + r.waitMs > opts.maxWaitMs)
      throw new Error(`rate limit ${key}: no token within ${opts.maxWaitMs} ms`);
    // A little jitter so that waiters woken together do not all hit the row at once.
    const ms = Math.max(5, r.waitMs) + Math.floor(Math.random() * 10);
    await sleep(ms, opts.signal);
    waited += ms;
  }
}
