// Per-provider circuit breakers (cockatiel: consecutive-failure breaker with a
// half-open probe) and health from recent outcomes. They live in each worker
// process's memory (a breaker must react in milliseconds); a snapshot goes to
// provider_health for the console and for people looking at other processes.
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleType,
  type CircuitBreakerPolicy,
} from "cockatiel";
import { sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import type { Channel, ProviderSettings } from "./types";

/** Thrown inside the breaker for outcomes that count against the provider. */
export class ProviderFailure extends Error {}

const WINDOW = 50;

export interface ProviderHealthState {
  breaker: CircuitBreakerPolicy;
  recent: boolean[];
  consecutiveFailures: number;
  lastError: string | null;
  /** Token bucket for the configured rate limit. */
  tokens: number;
  refilledAt: number;
  /** A provider's Retry-After: no calls before this. */
  blockedUntil: number;
  /** When the circuit last opened (cockatiel only moves to half-open on the next call, so we track the time). */
  openedAt: number;
  halfOpenAfterMs: number;
}

const registries = new WeakMap<HubContext, Map<string, ProviderHealthState>>();

export const circuitName = (s: CircuitState) =>
  s === CircuitState.Closed
    ? "closed"
    : s === CircuitState.Open
      ? "open"
      : s === CircuitState.HalfOpen
        ? "half_open"
        : "isolated";

export function healthOf(ctx: HubContext, id: string, channel: Channel, settings: ProviderSettings): ProviderHealthState {
  let map = registries.get(ctx);
  if (!map) registries.set(ctx, (map = new Map()));
  let state = map.get(id);
  if (!state) {
    const breaker = circuitBreaker(handleType(ProviderFailure), {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    const created: ProviderHealthState = {
      breaker,
      recent: [],
      consecutiveFailures: 0,
      lastError: null,
      tokens: settings.rateLimit?.requests ?? Number.POSITIVE_INFINITY,
      refilledAt: Date.now(),
      blockedUntil: 0,
      openedAt: 0,
      halfOpenAfterMs: settings.halfOpenAfterMs,
    };
    breaker.onStateChange((s) => {
      if (s === CircuitState.Open) created.openedAt = Date.now();
      ctx.log.info({ provider: id, circuit: circuitName(s) }, "messaging: provider circuit changed");
      void persist(ctx, id, channel, created);
    });
    map.set(id, (state = created));
  }
  return state;
}

/** ms until an open circuit may be probed (0 when it may be now). */
export function probeInMs(state: ProviderHealthState, now = Date.now()): number {
  return state.breaker.state === CircuitState.Open ? Math.max(0, state.openedAt + state.halfOpenAfterMs - now) : 0;
}

export function isBrokenCircuit(err: unknown): boolean {
  return err instanceof BrokenCircuitError;
}

/** Should the engine even try this provider now? (Open circuit or a Retry-After wait: no.) */
export function available(state: ProviderHealthState, now = Date.now()): boolean {
  if (state.blockedUntil > now) return false;
  if (state.breaker.state === CircuitState.Isolated) return false;
  // Once halfOpenAfter has passed, the next call is cockatiel's half-open probe (one at a time; the rest get BrokenCircuitError).
  if (state.breaker.state === CircuitState.Open) return now - state.openedAt >= state.halfOpenAfterMs;
  return true;
}

/** Take one token; returns 0 when allowed, else ms until one is free. */
export function takeToken(state: ProviderHealthState, settings: ProviderSettings, now = Date.now()): number {
  const limit = settings.rateLimit;
  if (!limit) return 0;
  const perMs = limit.requests / (limit.perSeconds * 1000);
  state.tokens = Math.min(limit.requests, state.tokens + (now - state.refilledAt) * perMs);
  state.refilledAt = now;
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return 0;
  }
  return Math.ceil((1 - state.tokens) / perMs);
}

export function recordOutcome(
  ctx: HubContext,
  id: string,
  channel: Channel,
  state: ProviderHealthState,
  ok: boolean,
  error?: string,
): void {
  state.recent.push(ok);
  if (state.recent.length > WINDOW) state.recent.shift();
  state.consecutiveFailures = ok ? 0 : state.consecutiveFailures + 1;
  if (!ok) state.lastError = error ?? null;
  void persist(ctx, id, channel, state, ok);
}

/** Success rate over the recent window (1 when nothing happened yet). */
export const successRate = (s: ProviderHealthState) => (s.recent.length ? s.recent.filter(Boolean).length / s.recent.length : 1);

/** Outcomes recorded since the provider's last snapshot write began, and whether a write is under way. */
interface PendingSnapshot {
  writing: boolean;
  dirty: boolean;
  successes: number;
  failures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
}
const pendingSnapshots = new WeakMap<ProviderHealthState, PendingSnapshot>();

/**
 * Saves the snapshot, one write at a time per provider: what happens while a write is under way is added
 * up and goes out in the next one (counts summed, latest times, the state as it is then), so a busy
 * provider costs one upsert per round trip instead of one per message, and workers do not queue on its row.
 */
function persist(ctx: HubContext, id: string, channel: Channel, s: ProviderHealthState, ok?: boolean): Promise<void> {
  let p = pendingSnapshots.get(s);
  if (!p) {
    p = { writing: false, dirty: false, successes: 0, failures: 0, lastSuccessAt: null, lastFailureAt: null };
    pendingSnapshots.set(s, p);
  }
  const ts = new Date().toISOString();
  if (ok === true) [p.successes, p.lastSuccessAt] = [p.successes + 1, ts];
  if (ok === false) [p.failures, p.lastFailureAt] = [p.failures + 1, ts];
  p.dirty = true;
  if (p.writing) return Promise.resolve();
  p.writing = true;
  const pending = p;
  return (async () => {
    try {
      while (pending.dirty) {
        const batch = { ...pending };
        Object.assign(pending, { dirty: false, successes: 0, failures: 0, lastSuccessAt: null, lastFailureAt: null });
        await writeSnapshot(ctx, id, channel, s, batch);
      }
    } finally {
      pending.writing = false;
    }
  })();
}

async function writeSnapshot(
  ctx: HubContext,
  id: string,
  channel: Channel,
  s: ProviderHealthState,
  batch: PendingSnapshot,
): Promise<void> {
  const circuit = circuitName(s.breaker.state);
  const ts = new Date().toISOString();
  try {
    await ctx.db.execute(sql`
      insert into provider_health (provider, channel, circuit_state, successes, failures, consecutive_failures,
        last_success_at, last_failure_at, last_error, opened_at, updated_at)
      values (${id}, ${channel}, ${circuit}, ${batch.successes}, ${batch.failures}, ${s.consecutiveFailures},
        ${batch.lastSuccessAt}::timestamptz, ${batch.lastFailureAt}::timestamptz, ${s.lastError},
        ${circuit === "open" ? ts : null}::timestamptz, now())
      on conflict (provider) do update set
        circuit_state = excluded.circuit_state,
        successes = provider_health.successes + excluded.successes,
        failures = provider_health.failures + excluded.failures,
        consecutive_failures = excluded.consecutive_failures,
        last_success_at = coalesce(excluded.last_success_at, provider_health.last_success_at),
        last_failure_at = coalesce(excluded.last_failure_at, provider_health.last_failure_at),
        last_error = coalesce(excluded.last_error, provider_health.last_error),
        opened_at = case when excluded.circuit_state = 'open' and provider_health.circuit_state <> 'open'
                         then excluded.opened_at else provider_health.opened_at end,
        updated_at = now()`);
  } catch (err) {
    // Health is a snapshot for people; losing one update must never fail a send.
    ctx.log.debug({ err, provider: id }, "messaging: provider health not saved");
  }
}
