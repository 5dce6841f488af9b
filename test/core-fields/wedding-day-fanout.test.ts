// A core-field change of a wedding with many vendors: the email and calendar
// consumers queue every vendor's job in one add_jobs call each (one wedding-day
// lookup per change, not one per job), with exactly the keys, modes, payloads
// and priorities one add_job per job gave: boosted for a wedding-day couple and
// for connections whose supplier serves one, normal otherwise; the emails'
// coalescing window kept (preserve_run_at), the calendar syncs' moved (replace).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inArray, sql } from "drizzle-orm";
import { connections, suppliers } from "../../db/schema";
import { updateCoreFields } from "../../app/core-fields/write.server";
import { systemPrincipal } from "../../app/core-fields/principal";
import { calendarSyncJobKey, enqueueCalendarSyncs } from "../../app/calendar/consumers.server";
import { coreFieldsMailJobKey } from "../../app/messaging/consumers.server";
import { CRITICAL_PRIORITY } from "../../app/wedding-day/mode.server";
import { makeCouple, startTestHub, unique } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

interface JobRow extends Record<string, unknown> {
  key: string;
  priority: number;
  /** run_at in epoch milliseconds */
  run_ms: number;
  payload: Record<string, unknown>;
}

async function jobs(task: string, keys: string[]): Promise<Map<string, JobRow>> {
  const res = await hub.ctx.db
    .execute<JobRow>(sql`select j.key, j.priority, (extract(epoch from j.run_at) * 1000)::float8 as run_ms, j.payload
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where t.identifier = ${task} and j.key = any(${`{${keys.join(",")}}`}::text[])`);
  return new Map(res.rows.map((r) => [r.key, r]));
}

async function vendors(n: number, withCalendar: number) {
  const rows = await hub.ctx.db
    .insert(suppliers)
    .values(
      Array.from({ length: n }, (_, i) => ({
        name: unique(`Vendor ${i}`),
        kind: "florist",
        email: `${unique("v")}@example.com`,
      })),
    )
    .returning({ id: suppliers.id });
  const conns = await hub.ctx.db
    .insert(connections)
    .values(
      rows.slice(0, withCalendar).map((r) => ({
        supplierId: r.id,
        connectorId: "google-calendar",
        credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: "t" }),
      })),
    )
    .returning({ id: connections.id });
  return { ids: rows.map((r) => r.id), connectionIds: conns.map((c) => c.id) };
}

const change = (coupleId: string, guestCount: number) =>
  updateCoreFields(hub.ctx.db, systemPrincipal("test", "couple"), {
    coupleId,
    patch: { guestCount },
    expectedVersion: "current",
  });

describe("a wedding's change fans out to many vendors in one batch per consumer", () => {
  it("queues every vendor's email and calendar sync, boosted for a wedding-day couple, with each key's mode", async () => {
    const v = await vendors(40, 12);
    const couple = await makeCouple(hub.ctx.db, v.ids, { weddingDate: dayFromNow(1), timezone: "UTC" });
    const first = await change(couple, 150);
    const mailKeys = v.ids.map((s) => coreFieldsMailJobKey(s, couple));
    const syncKeys = v.connectionIds.map(calendarSyncJobKey);

    const mail = await jobs("notify_core_fields_changed", mailKeys);
    const sync = await jobs("sync_calendar", syncKeys);
    expect(mail.size).toBe(40);
    expect(sync.size).toBe(12);
    for (const [i, s] of v.ids.entries())
      expect(mail.get(mailKeys[i]!)).toMatchObject({
        priority: CRITICAL_PRIORITY,
        payload: { supplierId: s, coupleId: couple, sinceSeq: first.event!.seq },
      });
    for (const [i, c] of v.connectionIds.entries())
      expect(sync.get(syncKeys[i]!)).toMatchObject({
        priority: CRITICAL_PRIORITY,
        payload: { connectionId: c, pull: true, backoff: 0 },
      });

    await new Promise((r) => setTimeout(r, 50));
    const second = await change(couple, 151);
    const mail2 = await jobs("notify_core_fields_changed", mailKeys);
    const sync2 = await jobs("sync_calendar", syncKeys);
    for (const k of mailKeys) {
      // The email waits out the window opened by the first change (preserve_run_at) and covers the newest.
      expect(mail2.get(k)!.run_ms).toBe(mail.get(k)!.run_ms);
      expect(mail2.get(k)!.payload.sinceSeq).toBe(second.event!.seq);
    }
    // Each calendar sync moves to the new coalescing deadline (replace).
    for (const k of syncKeys) expect(sync2.get(k)!.run_ms).toBeGreaterThan(sync.get(k)!.run_ms);
  });

  it("a routine couple's jobs stay at normal priority, except a calendar whose vendor also serves a wedding today", async () => {
    const v = await vendors(6, 3);
    const routine = await makeCouple(hub.ctx.db, v.ids, { weddingDate: dayFromNow(60), timezone: "UTC" });
    // Vendor 0 also serves a wedding tomorrow: its calendar matters today, whichever couple changed.
    await makeCouple(hub.ctx.db, [v.ids[0]!], { weddingDate: dayFromNow(1), timezone: "UTC" });
    await change(routine, 80);

    const mail = await jobs(
      "notify_core_fields_changed",
      v.ids.map((s) => coreFieldsMailJobKey(s, routine)),
    );
    expect([...mail.values()].map((j) => j.priority)).toEqual([0, 0, 0, 0, 0, 0]);
    const sync = await jobs("sync_calendar", v.connectionIds.map(calendarSyncJobKey));
    expect(v.connectionIds.map((c) => sync.get(calendarSyncJobKey(c))!.priority)).toEqual([CRITICAL_PRIORITY, 0, 0]);
  });

  it("enqueueCalendarSyncs honours the delay, pull, backoff and key mode it is given, and ignores an empty list", async () => {
    const v = await vendors(2, 2);
    await enqueueCalendarSyncs(hub.ctx.db, []);
    const before = Date.now();
    await enqueueCalendarSyncs(hub.ctx.db, v.connectionIds, { delayMs: 60_000, pull: false, backoff: 3 });
    const keys = v.connectionIds.map(calendarSyncJobKey);
    const queued = await jobs("sync_calendar", keys);
    for (const [i, c] of v.connectionIds.entries()) {
      const j = queued.get(keys[i]!)!;
      expect(j.payload).toEqual({ connectionId: c, pull: false, backoff: 3 });
      expect(j.priority).toBe(0);
      expect(j.run_ms).toBeGreaterThanOrEqual(before + 59_000);
    }
    // preserve_run_at (the sweep's mode) keeps a waiting sync's time.
    await enqueueCalendarSyncs(hub.ctx.db, v.connectionIds, { delayMs: 0, keyMode: "preserve_run_at" });
    const kept = await jobs("sync_calendar", keys);
    for (const k of keys) expect(kept.get(k)!.run_ms).toBe(queued.get(k)!.run_ms);
    await hub.ctx.db.delete(connections).where(inArray(connections.id, v.connectionIds));
  });
});
