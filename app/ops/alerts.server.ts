// Alerts: a KPI past its threshold for `forMs` opens one (open → acknowledged
// by a person → resolved). Hysteresis: it resolves only after the KPI has been
// past a separate, stricter recovery threshold for `recoverForMs`, so a value
// hovering around the threshold neither resolves nor reopens it. Unknown values
// (no data) are evidence of nothing: they reset whichever timer was running.
//
// evaluateAlert() is the pure decision; applyAlertDecision() writes it (alerts
// row + alert_events timeline) and tells ops.
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { alertEvents, alerts } from "../../db/schema";
import { recordAudit, type Actor } from "../audit/audit.server";
import { ConflictError, NotFoundError } from "../errors";
import { sendMessage } from "../messaging/send.server";
import { KPIS, KPI_BY_ID, type KpiDef } from "./kpi-defs";

export interface AlertRule {
  kpi: string;
  /** "above": bad when value > threshold (latencies); "below": bad when value < threshold (success rates). */
  bad: "above" | "below";
  threshold: number;
  /** Must be past this (below it for "above" rules) to count as recovered. */
  recovery: number;
  forMs: number;
  recoverForMs: number;
}

export interface AlertState {
  /** The live alert, if any (from the database). */
  live: { id: string; status: "open" | "acknowledged" } | null;
  /** Since when the KPI has been past its threshold without a live alert. */
  breachSince: number | null;
  /** Since when the KPI has been past its recovery threshold with a live alert. */
  recoverSince: number | null;
}

export interface AlertSample {
  at: number;
  value: number | null;
}

export type AlertDecision =
  { kind: "none" } | { kind: "open"; value: number } | { kind: "resolve"; value: number; alertId: string };

export const initialAlertState = (): AlertState => ({ live: null, breachSince: null, recoverSince: null });

export function isBreach(rule: AlertRule, value: number): boolean {
  return rule.bad === "above" ? value > rule.threshold : value < rule.threshold;
}

export function isRecovered(rule: AlertRule, value: number): boolean {
  return rule.bad === "above" ? value <= rule.recovery : value >= rule.recovery;
}

/** The pure rule: what to do with this sample, and the state after it. */
export function evaluateAlert(
  state: AlertState,
  sample: AlertSample,
  rule: AlertRule,
): { state: AlertState; decision: AlertDecision } {
  const { at, value } = sample;
  if (value === null) return { state: { ...state, breachSince: null, recoverSince: null }, decision: { kind: "none" } };
  if (!state.live) {
    if (!isBreach(rule, value)) return { state: { ...state, breachSince: null, recoverSince: null }, decision: { kind: "none" } };
    const breachSince = state.breachSince ?? at;
    if (at - breachSince >= rule.forMs)
      return { state: { ...state, breachSince: null, recoverSince: null }, decision: { kind: "open", value } };
    return { state: { ...state, breachSince, recoverSince: null }, decision: { kind: "none" } };
  }
  if (!isRecovered(rule, value))
    return { state: { ...state, recoverSince: null, breachSince: null }, decision: { kind: "none" } };
  const recoverSince = state.recoverSince ?? at;
  if (at - recoverSince >= rule.recoverForMs)
    return {
      state: { live: null, breachSince: null, recoverSince: null },
      decision: { kind: "resolve", value, alertId: state.live.id },
    };
  return { state: { ...state, recoverSince, breachSince: null }, decision: { kind: "none" } };
}

/** One rule per KPI with a target: threshold at the target, recovery a step on the good side of it. */
export function defaultAlertRules(opts: { forMs?: number; recoverForMs?: number } = {}): AlertRule[] {
  const forMs = opts.forMs ?? 60_000;
  const recoverForMs = opts.recoverForMs ?? 120_000;
  return KPIS.flatMap((k: KpiDef): AlertRule[] => {
    if (k.better === "info" || k.target === null) return [];
    if (k.better === "lower") {
      // "< 50 ms": bad from 50; recovered at 80% of it. A zero target ("0 findings") is bad above 0.
      const threshold = k.inclusive ? k.target : k.target - Number.EPSILON * Math.max(1, k.target);
      return [{ kpi: k.id, bad: "above", threshold, recovery: k.target * 0.8, forMs, recoverForMs }];
    }
    // "99.9%": bad below it; recovered halfway between it and 100 (100% targets recover at 100).
    return [{ kpi: k.id, bad: "below", threshold: k.target, recovery: k.target + (100 - k.target) / 2, forMs, recoverForMs }];
  });
}

export const liveAlertSchema = z.object({
  id: z.string(),
  kpi: z.string(),
  status: z.enum(["open", "acknowledged", "resolved"]),
  message: z.string(),
  threshold: z.number().nullable(),
  lastValue: z.number().nullable(),
  openedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof liveAlertSchema>;

const toView = (a: typeof alerts.$inferSelect): AlertView => ({
  id: a.id,
  kpi: a.kpi,
  status: a.status,
  message: a.message,
  threshold: a.threshold,
  lastValue: a.lastValue,
  openedAt: a.openedAt.toISOString(),
  acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
  resolvedAt: a.resolvedAt?.toISOString() ?? null,
});

export async function liveAlerts(db: DbOrTx): Promise<AlertView[]> {
  const rows = await db
    .select()
    .from(alerts)
    .where(inArray(alerts.status, ["open", "acknowledged"]))
    .orderBy(desc(alerts.openedAt));
  return rows.map(toView);
}

export async function recentAlerts(db: DbOrTx, limit = 20): Promise<AlertView[]> {
  const rows = await db.select().from(alerts).orderBy(desc(alerts.openedAt)).limit(limit);
  return rows.map(toView);
}

export async function alertTimeline(db: DbOrTx, alertId: string) {
  return db.select().from(alertEvents).where(eq(alertEvents.alertId, alertId)).orderBy(alertEvents.at, alertEvents.id);
}

function describe(kpi: string, value: number, rule: AlertRule): string {
  const def = KPI_BY_ID.get(kpi);
  const unit = def?.unit === "%" ? "%" : def?.unit === "count" ? "" : ` ${def?.unit ?? ""}`;
  const label = def?.label ?? kpi;
  return `${label} is ${value}${unit} (target ${def?.targetText ?? rule.threshold}) for ${Math.round(rule.forMs / 1000)} s or more`;
}

/**
 * Write one decision. Opening relies on the one-live-alert-per-KPI index: if
 * another process opened it first, this one adopts theirs instead of failing.
 */
export async function applyAlertDecision(
  ctx: HubContext,
  rule: AlertRule,
  state: AlertState,
  decision: AlertDecision,
  now: Date,
): Promise<{ state: AlertState; changed: AlertView | null }> {
  if (decision.kind === "none") return { state, changed: null };
  if (decision.kind === "open") {
    const message = describe(rule.kpi, decision.value, rule);
    const opened = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(alerts)
        .values({ kpi: rule.kpi, status: "open", message, threshold: rule.threshold, lastValue: decision.value, openedAt: now })
        .onConflictDoNothing()
        .returning();
      if (!row) return null;
      await tx.insert(alertEvents).values({
        alertId: row.id,
        at: now,
        kind: "opened",
        detail: { value: decision.value, threshold: rule.threshold, forMs: rule.forMs },
      });
      await notifyOps(ctx, tx, row, message, now);
      return row;
    });
    const row =
      opened ??
      (await ctx.db.query.alerts.findFirst({
        where: and(eq(alerts.kpi, rule.kpi), inArray(alerts.status, ["open", "acknowledged"])),
      }));
    if (!row) return { state, changed: null };
    return {
      state: {
        live: { id: row.id, status: row.status === "acknowledged" ? "acknowledged" : "open" },
        breachSince: null,
        recoverSince: null,
      },
      changed: opened ? toView(opened) : null,
    };
  }
  const id = decision.alertId;
  const resolved = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({ status: "resolved", resolvedAt: now, lastValue: decision.value })
      .where(and(eq(alerts.id, id), inArray(alerts.status, ["open", "acknowledged"])))
      .returning();
    if (!row) return null;
    await tx.insert(alertEvents).values({
      alertId: id,
      at: now,
      kind: "resolved",
      detail: { value: decision.value, recovery: rule.recovery, recoverForMs: rule.recoverForMs },
    });
    return row;
  });
  return { state: { live: null, breachSince: null, recoverSince: null }, changed: resolved ? toView(resolved) : null };
}

/**
 * Ops hear about a new alert through the messaging module: one email per ops
 * and admin user (template alert_raised, critical so quiet hours do not hold
 * it), queued in the alert's own transaction with an idempotency key per alert.
 * The "notified" event keeps who was told and the message ids.
 */
async function notifyOps(
  ctx: HubContext,
  tx: DbOrTx,
  alert: typeof alerts.$inferSelect,
  message: string,
  now: Date,
): Promise<void> {
  const res = await tx.execute<{ email: string }>(
    sql`select email from users where role in ('ops', 'admin') and disabled_at is null order by email limit 100`,
  );
  const recipients = res.rows.map((r) => r.email);
  const title = `${KPI_BY_ID.get(alert.kpi)?.label ?? alert.kpi} past its target`;
  let messageIds: string[] = [];
  if (recipients.length) {
    const sent = await sendMessage(tx, {
      recipients,
      channel: "email",
      template: "alert_raised",
      data: { title, severity: "critical", detail: message, url: new URL("/console", ctx.publicUrl()).toString() },
      priority: 10,
      critical: true,
      idempotencyKey: `ops-alert:${alert.id}`,
    });
    messageIds = sent.messages.map((m) => m.id);
  }
  await tx.insert(alertEvents).values({
    alertId: alert.id,
    at: now,
    kind: "notified",
    detail: { channel: "email", template: "alert_raised", recipients, messageIds, title, message },
  });
}

/** A person takes the alert (console, CSRF-checked by the route); audited. */
export async function acknowledgeAlert(db: DbOrTx, alertId: string, actor: Actor & { type: "user" }): Promise<AlertView> {
  const [before] = await db.select().from(alerts).where(eq(alerts.id, alertId));
  if (!before) throw new NotFoundError(`No alert with id ${alertId}`);
  if (before.status !== "open") throw new ConflictError(`This alert is already ${before.status}.`);
  const [row] = await db
    .update(alerts)
    .set({ status: "acknowledged", acknowledgedAt: sql`now()`, acknowledgedBy: actor.id })
    .where(and(eq(alerts.id, alertId), eq(alerts.status, "open")))
    .returning();
  if (!row) throw new ConflictError("This alert changed meanwhile; reload.");
  await db.insert(alertEvents).values({ alertId, kind: "acknowledged", detail: { by: actor.label } });
  await recordAudit(db, actor, {
    action: "alert.acknowledge",
    entityType: "alert",
    entityId: alertId,
    before: { status: before.status },
    after: { status: row.status, acknowledgedBy: actor.label },
  });
  return toView(row);
}
