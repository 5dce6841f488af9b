// mulberry32, as in simulators/harness.ts: tiny, seedable, reproducible (the CRM
// generators use it so that a seed and a count always give the same records).
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
export const pad2 = (n: number) => String(n).padStart(2, "0");

/** Sliding-window per-account limit shared by the API simulators: true when the request may proceed. */
export function allowRequest(hits: number[], limit: { requests: number; windowSeconds: number }, now = Date.now()) {
  const windowMs = limit.windowSeconds * 1000;
  while (hits.length && hits[0]! <= now - windowMs) hits.shift();
  if (hits.length >= limit.requests)
    return { ok: false as const, retryAfter: Math.max(1, Math.ceil((hits[0]! + windowMs - now) / 1000)) };
  hits.push(now);
  return { ok: true as const, retryAfter: 0 };
}
