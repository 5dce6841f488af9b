// KPI states: unknown without data (never green), and the green/amber/red
// boundaries of the brief's targets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { computeKpis, gradeKpi, KPI_BY_ID, type KpiDef } from "../../app/ops/kpis.server";
import { SnapshotReader } from "../../app/ops/snapshots.server";
import { syncRuns, webhookDeliveries, webhookRefusals } from "../../db/schema";
import { openTestDatabase } from "../helpers/hub";
import { farFuture, inboundEndpoint } from "./fixtures";

let database: Database;
beforeAll(() => {
  database = openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const def = (id: string): KpiDef => KPI_BY_ID.get(id)!;

describe("gradeKpi", () => {
  it("is unknown without a value, for every KPI", () => {
    for (const id of KPI_BY_ID.keys()) expect(gradeKpi(def(id), null)).toBe("unknown");
    expect(gradeKpi(def("webhook_processing_ms"), Number.NaN)).toBe("unknown");
  });

  it("grades 'lower is better' targets: below the target green, then amber, then red", () => {
    const webhook = def("webhook_processing_ms"); // < 100 ms, amber to 250
    expect(gradeKpi(webhook, 0)).toBe("green");
    expect(gradeKpi(webhook, 99.9)).toBe("green");
    expect(gradeKpi(webhook, 100)).toBe("amber");
    expect(gradeKpi(webhook, 249.9)).toBe("amber");
    expect(gradeKpi(webhook, 250)).toBe("red");
    const latency = def("core_field_sync_latency_ms"); // < 50 ms
    expect(gradeKpi(latency, 49)).toBe("green");
    expect(gradeKpi(latency, 50)).toBe("amber");
    expect(gradeKpi(latency, 100)).toBe("red");
    const errors = def("integration_error_rate_pct"); // < 0.1%
    expect(gradeKpi(errors, 0.09)).toBe("green");
    expect(gradeKpi(errors, 0.1)).toBe("amber");
    expect(gradeKpi(errors, 1)).toBe("red");
  });

  it("grades 'higher is better' targets: at or above the target green", () => {
    const email = def("email_delivery_rate_pct"); // 99.9%, amber from 99
    expect(gradeKpi(email, 100)).toBe("green");
    expect(gradeKpi(email, 99.9)).toBe("green");
    expect(gradeKpi(email, 99.89)).toBe("amber");
    expect(gradeKpi(email, 99)).toBe("amber");
    expect(gradeKpi(email, 98.99)).toBe("red");
    const sync = def("cross_platform_sync_success_pct"); // 100%
    expect(gradeKpi(sync, 100)).toBe("green");
    expect(gradeKpi(sync, 99.5)).toBe("amber");
    expect(gradeKpi(sync, 98)).toBe("red");
  });

  it("treats a zero target as inclusive: no findings is green, one is red", () => {
    const findings = def("data_inconsistency_count");
    expect(gradeKpi(findings, 0)).toBe("green");
    expect(gradeKpi(findings, 1)).toBe("red");
  });
});

describe("computeKpis", () => {
  it("reports unknown (not green) for every windowed KPI when nothing happened in the window", async () => {
    const now = new Date(farFuture(2097));
    const snap = await computeKpis(database.db, new SnapshotReader(database.db), { now });
    const state = (id: string) => snap.kpis.find((k) => k.id === id)!;
    for (const id of [
      "core_field_sync_latency_ms",
      "realtime_stability_pct",
      "cross_platform_sync_success_pct",
      "tave_api_response_ms",
      "google_calendar_sync_success_pct",
      "email_delivery_rate_pct",
      "webhook_processing_ms",
      "webhook_retry_success_pct",
      "signature_validation_pct",
      "integration_error_rate_pct",
      "failover_response_ms",
      "connected_sockets",
    ]) {
      expect(state(id), id).toEqual({ id, value: null, state: "unknown" });
    }
    expect(snap.kpis).toHaveLength(KPI_BY_ID.size);
  });

  it("computes values from what features recorded, graded against the targets", async () => {
    const base = farFuture(2096);
    const now = new Date(base);
    const hook = await inboundEndpoint(database.db);
    try {
      for (let i = 0; i < 19; i++) await hook.attempt(new Date(base - 10_000 + i * 100), 40);
      await hook.attempt(new Date(base - 5_000), 45);
      const runs = [
        ...Array.from({ length: 3 }, () => ({
          kind: "ops-test",
          status: "succeeded" as const,
          finishedAt: new Date(base - 60_000),
        })),
        { kind: "ops-test", status: "failed" as const, finishedAt: new Date(base - 30_000) },
      ];
      await database.db.insert(syncRuns).values(runs);

      const reader = new SnapshotReader(database.db);
      const snap = await computeKpis(database.db, reader, { now });
      const kpi = (id: string) => snap.kpis.find((k) => k.id === id)!;
      expect(kpi("webhook_processing_ms").state).toBe("green");
      expect(kpi("webhook_processing_ms").value).toBeGreaterThanOrEqual(40);
      expect(kpi("webhook_processing_ms").value).toBeLessThanOrEqual(45);
      expect(kpi("cross_platform_sync_success_pct")).toEqual({ id: "cross_platform_sync_success_pct", value: 75, state: "red" });

      // Signature validation: verified deliveries and forgeries refused with 401 both count as validations that worked.
      expect(kpi("signature_validation_pct")).toMatchObject({ value: 100, state: "green" });
      await database.db
        .insert(webhookRefusals)
        .values({ endpointRef: hook.id, status: 401, reason: "forged", at: new Date(base - 1_000) });
      const withRefusal = await computeKpis(database.db, reader, { now });
      expect(withRefusal.kpis.find((k) => k.id === "signature_validation_pct")).toMatchObject({ value: 100, state: "green" });
      // A delivery stored without a passed verification is a failure of the invariant.
      await database.db.insert(webhookDeliveries).values({
        endpointId: hook.id,
        externalId: "unverified",
        status: "received",
        createdAt: new Date(base - 1_000),
      });
      const broken = await computeKpis(database.db, reader, { now });
      expect(broken.kpis.find((k) => k.id === "signature_validation_pct")!.state).toBe("red");

      // Slow processing in the window: p95 past 250 ms is red.
      for (let i = 0; i < 5; i++) await hook.attempt(new Date(base - 2_000 + i), 400);
      const slow = await computeKpis(database.db, reader, { now });
      expect(slow.kpis.find((k) => k.id === "webhook_processing_ms")!.state).toBe("red");
      // Out of the one-minute window, they no longer count.
      const later = await computeKpis(database.db, reader, { now: new Date(base + 120_000) });
      expect(later.kpis.find((k) => k.id === "webhook_processing_ms")!.state).toBe("unknown");
    } finally {
      await hook.remove();
      await database.db.execute(sql`delete from webhook_refusals where endpoint_ref = ${hook.id}`);
      // sync_runs rows of this test only (kind "ops-test", far-future).
      await database.db.execute(sql`delete from sync_runs where kind = 'ops-test' and finished_at > now() + interval '1 year'`);
    }
  });
});
