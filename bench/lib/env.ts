// Numeric overrides from the environment (e.g. BENCH_SECONDS=5), validated.

export function envNumber(name: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  const { min = -Infinity, max = Infinity, integer = false } = opts;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be ${integer ? "a whole number" : "a number"} between ${min} and ${max} (got "${raw}")`);
  }
  return n;
}
