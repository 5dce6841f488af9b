// Alerts: the pure hysteresis rule, then end to end — slow webhook processing
// opens an alert within 5 s that a staff socket in `ops` receives, a person
// acknowledges it (CSRF, audited), it resolves once back under the recovery
// threshold, and a value hovering around the threshold never flaps it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, gt, inArray } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import {
  evaluateAlert,
  initialAlertState,
  type AlertDecision,
  type AlertRule,
  type AlertState,
  type AlertView,
} from "../../app/ops/alerts.server";
import { OpsTicker, type OpsTick } from "../../app/ops/ticker.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { connectHub, type HubClient } from "../../client/realtime";
import { alertEvents, alerts, auditLog, messages } from "../../db/schema";
import { makeUser, openTestDatabase, startTestHub, testActor } from "../helpers/hub";
import { waitFor } from "../helpers/processes";
import { FormClient } from "../helpers/form-client";
import { farFuture, inboundEndpoint } from "./fixtures";

const rule: AlertRule = {
  kpi: "webhook_processing_ms",
  bad: "above",
  threshold: 100,
  recovery: 80,
  forMs: 3_000,
  recoverForMs: 3_000,
};

/** Feed values one second apart through the pure rule; the decisions, in order. */
function run(values: (number | null)[], start: AlertState = initialAlertState()) {
  let state = start;
  const decisions: AlertDecision["kind"][] = [];
  values.forEach((value, i) => {
    const out = evaluateAlert(state, { at: i * 1000, value }, rule);
    state = out.state;
    if (out.decision.kind === "open") state = { ...state, live: { id: "a1", status: "open" } };
    decisions.push(out.decision.kind);
  });
  return { decisions, state };
}

describe("evaluateAlert (pure)", () => {
  it("opens only after the threshold has been exceeded for the configured time", () => {
    expect(run([150, 150, 150]).decisions).toEqual(["none", "none", "none"]);
    expect(run([150, 150, 150, 150]).decisions).toEqual(["none", "none", "none", "open"]);
    // At the threshold is not past it.
    expect(run([100, 100, 100, 100, 100]).decisions.includes("open")).toBe(false);
  });

  it("restarts the breach timer when the value dips back, or when there is no data", () => {
    expect(run([150, 150, 150, 90, 150, 150, 150]).decisions.includes("open")).toBe(false);
    expect(run([150, 150, null, 150, 150]).decisions.includes("open")).toBe(false);
  });

  it("resolves only after the recovery threshold has held for the configured time", () => {
    const opened = run([150, 150, 150, 150]).state;
    expect(opened.live).not.toBeNull();
    expect(run([70, 70, 70], opened).decisions).toEqual(["none", "none", "none"]);
    expect(run([70, 70, 70, 70], opened).decisions).toEqual(["none", "none", "none", "resolve"]);
  });

  it("does not flap: hovering around the threshold neither resolves nor reopens", () => {
    const opened = run([150, 150, 150, 150]).state;
    const hover = run([95, 105, 95, 105, 99, 101, 95, 105, 90, 110], opened);
    expect(hover.decisions.every((d) => d === "none")).toBe(true);
    expect(hover.state.live).not.toBeNull();
    // Under the recovery threshold only briefly, then above it again: the recovery timer restarts.
    expect(run([70, 70, 95, 70, 70, 70], opened).decisions.includes("resolve")).toBe(false);
    // Unknown while open: evidence of nothing, stays open.
    expect(run([null, null, null, null, null], opened).decisions.every((d) => d === "none")).toBe(true);
  });

  it("handles 'below' rules (success rates) the same way", () => {
    const rate: AlertRule = {
      kpi: "email_delivery_rate_pct",
      bad: "below",
      threshold: 99.9,
      recovery: 99.95,
      forMs: 2000,
      recoverForMs: 2000,
    };
    let state = initialAlertState();
    const kinds: string[] = [];
    [99, 99, 99, 99.92, 99.97, 99.97, 99.97].forEach((value, i) => {
      const out = evaluateAlert(state, { at: i * 1000, value }, rate);
      state = out.decision.kind === "open" ? { ...out.state, live: { id: "x", status: "open" } } : out.state;
      kinds.push(out.decision.kind);
    });
    expect(kinds).toEqual(["none", "none", "open", "none", "none", "none", "resolve"]);
  });
});

describe("alerts end to end", () => {
  let database: Database;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let socket: HubClient;
  const received: AlertView[] = [];
  const ticks: OpsTick[] = [];

  beforeAll(async () => {
    database = openTestDatabase();
    hub = await startTestHub();
    const { token } = await createApiToken(database.db, { name: "ops alerts test", kind: "ops", scopes: ["ops"] }, testActor);
    socket = connectHub({ url: hub.url, token, rooms: [], onEvent: () => undefined, socketOptions: { reconnection: false } });
    socket.socket.on("ops:alert", (a: AlertView) => received.push(a));
    socket.socket.on("ops:tick", (t: OpsTick) => ticks.push(t));
    await waitFor(async () => socket.socket.connected, "the ops socket to connect", 10_000);
  });

  afterAll(async () => {
    socket?.close();
    await hub?.stop();
    await database?.close();
  });

  it("opens within 5 s of a webhook slowdown, notifies ops, resolves after recovery, never flaps", async () => {
    const hook = await inboundEndpoint(database.db);
    const ops = await makeUser(database.db, "ops");
    // Only the webhook rule, on a clock of its own (far future), a 1 s latency window: deterministic ticks.
    const ticker = new OpsTicker(hub.ctx, [rule], { latencyWindowMs: 1000 });
    const base = farFuture(2099);
    let second = 0;
    const tickWith = async (durationMs: number) => {
      const at = base + second * 1000;
      await hook.attempt(new Date(at - 500), durationMs);
      second++;
      return ticker.tick(new Date(at));
    };
    const mine = () =>
      database.db
        .select()
        .from(alerts)
        .where(and(eq(alerts.kpi, rule.kpi), gt(alerts.openedAt, new Date(base - 1))));
    try {
      // Healthy first.
      for (let i = 0; i < 3; i++) expect((await tickWith(20)).changed).toEqual([]);

      // The breach: processing takes 250 ms from tick 3 on.
      const breachAt = base + second * 1000;
      const realStart = Date.now();
      let opened: AlertView | undefined;
      while (!opened && second < 20) opened = (await tickWith(250)).changed.find((a) => a.status === "open");
      expect(opened, "an alert opened").toBeDefined();
      const openedAfterMs = Date.parse(opened!.openedAt) - breachAt;
      expect(openedAfterMs).toBeGreaterThanOrEqual(rule.forMs);
      expect(openedAfterMs).toBeLessThanOrEqual(5_000);
      // The staff socket in `ops` hears about it, well within 5 s of the breach.
      await waitFor(
        async () => received.find((a) => a.id === opened!.id && a.status === "open"),
        "ops:alert on the socket",
        5_000,
      );
      expect(Date.now() - realStart).toBeLessThan(5_000);
      expect(ticks.some((t) => t.alerts.some((a) => a.id === opened!.id))).toBe(true);
      const events = await database.db.select().from(alertEvents).where(eq(alertEvents.alertId, opened!.id));
      const notified = events.find((e) => e.kind === "notified");
      expect(notified?.detail).toMatchObject({ channel: "email", template: "alert_raised" });
      expect(String(notified?.detail.message)).toContain("Webhook processing time");
      // Through the messaging module: one queued email per ops/admin user, this test's ops user among them.
      const ids = notified?.detail.messageIds as string[];
      expect(ids.length).toBeGreaterThan(0);
      const queued = await database.db.select().from(messages).where(inArray(messages.id, ids));
      expect(queued.every((m) => m.template === "alert_raised" && m.channel === "email" && m.critical)).toBe(true);

      // Still slow, then hovering around the threshold: one alert, still open.
      for (const ms of [250, 95, 105, 95, 105, 99, 101, 95]) expect((await tickWith(ms)).changed).toEqual([]);
      expect((await mine()).map((a) => a.status)).toEqual(["open"]);

      // A person acknowledges it in the console (CSRF-checked, audited).
      const client = new FormClient(hub.url);
      await client.signIn(ops.email, ops.password);
      const page = await client.get("/console");
      expect(page.text).toContain(`value="${opened!.id}"`);
      const forged = await client.post("/console?index", { intent: "acknowledge", alertId: opened!.id }, { withCsrf: false });
      expect(forged.status).toBe(403);
      const ack = await client.post("/console?index", { intent: "acknowledge", alertId: opened!.id });
      expect(ack.status).toBe(200);
      expect((await mine())[0]).toMatchObject({ status: "acknowledged", acknowledgedBy: ops.user.id });
      await waitFor(
        async () => received.find((a) => a.id === opened!.id && a.status === "acknowledged"),
        "ops:alert acknowledged",
        5_000,
      );
      const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, opened!.id));
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ action: "alert.acknowledge", actorLabel: ops.email, before: { status: "open" } });

      // Back under the recovery threshold (80 ms) for 3 s: resolved, once.
      const resolvedIn: string[] = [];
      for (let i = 0; i < 6; i++) resolvedIn.push(...(await tickWith(20)).changed.map((a) => a.status));
      expect(resolvedIn).toEqual(["resolved"]);
      await waitFor(
        async () => received.find((a) => a.id === opened!.id && a.status === "resolved"),
        "ops:alert resolved",
        5_000,
      );

      // Hovering again after resolution: brief excursions never reopen it.
      for (const ms of [105, 95, 105, 95, 105, 95]) expect((await tickWith(ms)).changed).toEqual([]);
      const all = await mine();
      expect(all.map((a) => a.status)).toEqual(["resolved"]);
      const timeline = await database.db
        .select()
        .from(alertEvents)
        .where(eq(alertEvents.alertId, opened!.id))
        .orderBy(alertEvents.id);
      expect(timeline.map((e) => e.kind)).toEqual(["opened", "notified", "acknowledged", "resolved"]);
    } finally {
      await hook.remove();
    }
  });
});
