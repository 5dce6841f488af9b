// A token bucket in PostgreSQL (rate_limit_buckets), shared by every worker
// process: a provider's per-account limit holds however many workers import at
// once. Each acquire is one short transaction that locks the bucket's row, so
// concurrent acquirers are serialised by PostgreSQL and never over-grant.
// Time comes from the database clock (clock_timestamp(), read after the lock),
// so processes with skewed clocks still agree.
import { sql } from "drizzle-orm";
import type { Db, DbOrTx } from "../db.server";

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

interface BucketRow extends Record<string, unknown> {
  blocked: boolean;
  avail: number;
  blocked_until: Date | string | null;
  now: Date | string;
}

/**
 * Take one token if there is one; else say how long until there will be (or until a Retry-After ends).
 *
 * One statement reads the bucket FOR UPDATE (the newest version, under READ
 * COMMITTED) and writes it back, so the row lock is held for that statement
 * only; its commit is asynchronous (synchronous_commit off): losing the last
 * few token updates in a database crash only lets a few more calls through,
 * while waiting for the WAL flush with the lock held would serialise every
 * caller of a hot bucket behind one fsync each.
 */
export async function acquire(db: Db, key: string, settings: BucketSettings): Promise<AcquireResult> {
  const r = await acquireMany(db, key, settings, 1);
  return { granted: r.granted === 1, waitMs: r.waitMs };
}

/** Take up to `want` whole tokens at once (a lease): how many were granted, and how long to wait when none were. */
export async function acquireMany(
  db: Db,
  key: string,
  settings: BucketSettings,
  want: number,
): Promise<{ granted: number; waitMs: number }> {
  const { capacity, refillPerSecond } = settings;
  if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new Error("rate limit: capacity must be >= 1 and refill > 0");
  if (!(Number.isInteger(want) && want >= 1)) throw new Error("rate limit: want must be a whole number >= 1");
  const take = () =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local synchronous_commit = off`);
      const res = await tx.execute<BucketRow>(sql`
        with cur as (
          select key, tokens, refilled_at, blocked_until, statement_timestamp() as now
          from rate_limit_buckets where key = ${key} for update
        ), calc as (
          select key, now, blocked_until, refilled_at,
            coalesce(blocked_until > now, false) as blocked,
            least(${capacity}::float8,
                  tokens + greatest(0, extract(epoch from now - refilled_at)) * ${refillPerSecond}::float8) as avail
          from cur
        ), upd as (
          update rate_limit_buckets b set
            tokens = case when c.blocked then b.tokens else c.avail - least(${want}::int, floor(c.avail)) end,
            -- Never backwards: a caller that waited for the lock has an older statement time than the holder's.
            refilled_at = case when c.blocked then b.refilled_at else greatest(c.refilled_at, c.now) end
          from calc c where b.key = c.key
          returning b.key
        )
        select blocked, avail, blocked_until, now from calc`);
      return res.rows[0] ?? null;
    });
  let row = await take();
  if (!row) {
    await db.execute(sql`insert into rate_limit_buckets (key, tokens, refilled_at)
                         values (${key}, ${capacity}, statement_timestamp()) on conflict (key) do nothing`);
    row = await take();
    if (!row) throw new Error(`rate limit ${key}: bucket vanished`);
  }
  const now = new Date(row.now).getTime();
  if (row.blocked) return { granted: 0, waitMs: Math.max(1, new Date(row.blocked_until!).getTime() - now) };
  const avail = Number(row.avail);
  if (avail >= 1) return { granted: Math.min(want, Math.floor(avail)), waitMs: 0 };
  return { granted: 0, waitMs: Math.ceil(((1 - avail) / refillPerSecond) * 1000) };
}

/**
 * A process-local lease on a shared bucket: one database call takes a few
 * tokens, later callers in this process spend them locally. Leased tokens are
 * real tokens of the shared bucket (the limit holds across processes); unused
 * ones lapse after `ttlMs`, which can only grant less, never more.
 */
export class LeasedBucket {
  private tokens = 0;
  private expiresAt = 0;
  /** One renewal at a time: callers arriving while it runs wait for it instead of each leasing their own. */
  private renewing: Promise<AcquireResult> | null = null;

  constructor(
    private readonly key: string,
    private readonly ttlMs = 1_000,
  ) {}

  async take(db: Db, settings: BucketSettings): Promise<AcquireResult> {
    for (;;) {
      if (this.tokens > 0 && Date.now() < this.expiresAt) {
        this.tokens--;
        return { granted: true, waitMs: 0 };
      }
      if (!this.renewing) {
        this.renewing = this.renew(db, settings).finally(() => {
          this.renewing = null;
        });
        return this.renewing;
      }
      const r = await this.renewing;
      // The renewal found the bucket empty: so is it for everyone who waited on it.
      if (!r.granted) return r;
    }
  }

  private async renew(db: Db, settings: BucketSettings): Promise<AcquireResult> {
    // A twentieth of the allowance per lease (at least one token): few database calls, little stranded.
    const want = Math.max(1, Math.min(50, Math.floor(settings.capacity / 20)));
    const r = await acquireMany(db, this.key, settings, want);
    if (r.granted === 0) return { granted: false, waitMs: r.waitMs };
    // The renewing caller takes the first token; the rest are this process's for `ttlMs`.
    this.tokens = r.granted - 1;
    this.expiresAt = Date.now() + this.ttlMs;
    return { granted: true, waitMs: 0 };
  }
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
  db: Db,
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
