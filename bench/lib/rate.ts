// Open-loop load at a steady rate: tick i is due at start + i / rate and fires
// then whether or not earlier ticks have finished, so a slow response never
// delays the next send (and never hides latency). A late tick fires at once.
// Callers time each send themselves, at the moment they send. An aborted
// `signal` stops sending; the ticks in flight are awaited, then its reason is thrown.

export interface RateRun {
  ticks: number;
  /** Ticks whose promise rejected (the first error is kept). */
  failed: number;
  firstError: unknown;
  /** Worst lateness of a tick against its slot, in ms (timer grain and event-loop delay). */
  maxLagMs: number;
  elapsedMs: number;
}

export async function runAtRate(opts: {
  rate: number;
  seconds: number;
  tick: (i: number) => Promise<void> | void;
  signal?: AbortSignal;
}): Promise<RateRun> {
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const pending = new Set<Promise<void>>();
  let failed = 0;
  let firstError: unknown = undefined;
  let maxLagMs = 0;
  const start = performance.now();
  for (let i = 0; i < total && !opts.signal?.aborted; i++) {
    const target = start + i * interval;
    const wait = target - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.round(wait)));
    maxLagMs = Math.max(maxLagMs, performance.now() - target);
    const p: Promise<void> = Promise.resolve()
      .then(() => opts.tick(i))
      .catch((err: unknown) => {
        if (failed++ === 0) firstError = err;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all([...pending]);
  opts.signal?.throwIfAborted();
  return { ticks: total, failed, firstError, maxLagMs, elapsedMs: performance.now() - start };
}
