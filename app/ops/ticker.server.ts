// The KPI tick, once a second in ONE process of the hub: compute the KPIs,
// append them to kpi_samples, evaluate the alert rules, then NOTIFY `hub_ops`,
// which every web process relays to the `ops` Socket.IO room (relay.server.ts).
// The ticking process is elected with a session-level PostgreSQL advisory lock:
// when it dies, its connection closes, the lock is released, and another takes over.
import pg from "pg";
import { inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { alerts, kpiSamples } from "../../db/schema";
import { computeKpis, kpiValueSchema, providerRowSchema, queueRowSchema, type KpiOptions, type KpiSnapshot } from "./kpis.server";
import {
  applyAlertDecision,
  defaultAlertRules,
  evaluateAlert,
  initialAlertState,
  liveAlertSchema,
  liveAlerts,
  type AlertRule,
  type AlertState,
  type AlertView,
} from "./alerts.server";
import { SnapshotReader } from "./snapshots.server";

export const OPS_CHANNEL = "hub_ops";
/** pg_try_advisory_lock key of the ticker (distinct from the migrations' lock). */
const TICKER_LOCK_KEY = 7_265_310_041;
export const TICK_MS = 1_000;
const KEEP_SAMPLES = "6 hours";

export const opsTickSchema = z.object({
  type: z.literal("tick"),
  at: z.string(),
  kpis: z.array(kpiValueSchema),
  queue: z.array(queueRowSchema).optional(),
  providers: z.array(providerRowSchema).optional(),
  alerts: z.array(liveAlertSchema),
  /** Alerts opened or resolved by this tick. */
  changed: z.array(liveAlertSchema),
});
export type OpsTick = z.infer<typeof opsTickSchema>;

export const opsAlertNoticeSchema = z.object({ type: z.literal("alert"), alert: liveAlertSchema });
export const opsNoticeSchema = z.discriminatedUnion("type", [opsTickSchema, opsAlertNoticeSchema]);
export type OpsNotice = z.infer<typeof opsNoticeSchema>;

/** NOTIFY payloads are limited to 8000 bytes: drop the lists before the KPIs. */
export function notifyPayload(tick: OpsTick): string {
  const full = JSON.stringify(tick);
  if (Buffer.byteLength(full) < 7900) return full;
  return JSON.stringify({ ...tick, queue: undefined, providers: undefined });
}

export function alertRulesFor(ctx: HubContext): AlertRule[] {
  return defaultAlertRules({ forMs: ctx.config.opsAlertForMs, recoverForMs: ctx.config.opsAlertRecoverMs });
}

export class OpsTicker {
  private readonly reader: SnapshotReader;
  private readonly states = new Map<string, AlertState>();
  private ticks = 0;

  constructor(
    private readonly ctx: HubContext,
    private readonly rules: AlertRule[] = alertRulesFor(ctx),
    private readonly kpiOptions: Omit<KpiOptions, "now"> = {},
  ) {
    this.reader = new SnapshotReader(ctx.db);
  }

  /** One tick; tests call it directly with their own clock. */
  async tick(now = new Date()): Promise<{ snapshot: KpiSnapshot; changed: AlertView[] }> {
    const { ctx } = this;
    const snapshot = await computeKpis(ctx.db, this.reader, { ...this.kpiOptions, now });
    await ctx.db
      .insert(kpiSamples)
      .values(snapshot.kpis.map((k) => ({ kpi: k.id, at: now, value: k.value, state: k.state })))
      .onConflictDoNothing();

    // The live alerts are the database's (another process may have ticked, a person may have acknowledged).
    const live = await ctx.db
      .select({ id: alerts.id, kpi: alerts.kpi, status: alerts.status })
      .from(alerts)
      .where(inArray(alerts.status, ["open", "acknowledged"]));
    const liveByKpi = new Map(live.map((a) => [a.kpi, a]));
    const values = new Map(snapshot.kpis.map((k) => [k.id, k.value]));
    const changed: AlertView[] = [];
    for (const rule of this.rules) {
      const row = liveByKpi.get(rule.kpi);
      const prior = this.states.get(rule.kpi) ?? initialAlertState();
      const state: AlertState = {
        ...prior,
        live: row ? { id: row.id, status: row.status === "acknowledged" ? "acknowledged" : "open" } : null,
        // A live alert that vanished (or appeared) under us restarts the other timer.
        ...(Boolean(row) !== Boolean(prior.live) ? { breachSince: null, recoverSince: null } : {}),
      };
      const { state: next, decision } = evaluateAlert(state, { at: now.getTime(), value: values.get(rule.kpi) ?? null }, rule);
      const applied = await applyAlertDecision(ctx, rule, next, decision, now);
      this.states.set(rule.kpi, applied.state);
      if (applied.changed) changed.push(applied.changed);
      if (decision.kind === "none" && row && values.get(rule.kpi) != null) {
        await ctx.db
          .update(alerts)
          .set({ lastValue: values.get(rule.kpi) ?? null })
          .where(sql`${alerts.id} = ${row.id}`);
      }
    }

    const tick: OpsTick = { type: "tick", ...snapshot, alerts: await liveAlerts(ctx.db), changed };
    await ctx.db.execute(sql`select pg_notify(${OPS_CHANNEL}, ${notifyPayload(tick)})`);
    if (this.ticks++ % 60 === 0) await ctx.db.execute(sql`delete from kpi_samples where at < now() - ${KEEP_SAMPLES}::interval`);
    return { snapshot, changed };
  }
}

/** Tell the web processes about a change made outside a tick (an acknowledgement). */
export async function announceAlert(ctx: HubContext, alert: AlertView): Promise<void> {
  await ctx.db.execute(sql`select pg_notify(${OPS_CHANNEL}, ${JSON.stringify({ type: "alert", alert })})`);
}

/** Try to become the ticker every few seconds; while leader, tick every second (never two ticks at once). */
export function startKpiTicker(ctx: HubContext): { stop(): Promise<void> } {
  const log = ctx.log.child({ component: "kpi-ticker" });
  const ticker = new OpsTicker(ctx);
  let client: pg.Client | null = null;
  let stopped = false;
  let tickTimer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;

  const lose = () => {
    if (tickTimer) clearInterval(tickTimer);
    tickTimer = null;
    const c = client;
    client = null;
    void c?.end().catch(() => undefined);
  };

  const tryLead = async () => {
    if (stopped || client) return;
    const c = new pg.Client({ connectionString: ctx.databaseUrl });
    c.on("error", (err) => {
      log.warn({ err: err.message }, "ticker lost its lock connection");
      if (client === c) lose();
    });
    try {
      await c.connect();
      const res = await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [TICKER_LOCK_KEY]);
      if (!res.rows[0]?.ok || stopped) {
        await c.end();
        return;
      }
      client = c;
      log.info("this process ticks the KPIs");
      tickTimer = setInterval(() => {
        if (busy) return; // a slow tick is not stacked on; the next second catches up
        busy = true;
        running = ticker
          .tick()
          .catch((err: unknown) => log.error({ err }, "KPI tick failed"))
          .finally(() => (busy = false));
      }, TICK_MS);
    } catch (err) {
      log.debug({ err: err instanceof Error ? err.message : String(err) }, "ticker election attempt failed");
      await c.end().catch(() => undefined);
    }
  };

  void tryLead();
  const electTimer = setInterval(() => void tryLead(), 5_000);
  electTimer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(electTimer);
      if (tickTimer) clearInterval(tickTimer);
      await running;
      lose();
    },
  };
}
