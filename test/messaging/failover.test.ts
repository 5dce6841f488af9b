// Email failover through the real SDKs (resend, @sendgrid/mail, SES v2)
// against the simulators, run by real graphile-worker in the hub: Resend down
// -> SendGrid within 5 s, a half-open probe brings Resend back, everything
// down -> nothing lost and everything sent once after recovery, and a
// provider that accepts but never answers -> no second delivery.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { messageAttempts, messageEvents, messages } from "../../db/schema";
import { sendMessage } from "../../app/messaging/send.server";
import { confirmMessage } from "../../app/messaging/deliver.server";
import { invalidateProviders } from "../../app/messaging/registry.server";
import { startTestHub, unique } from "../helpers/hub";
import { configureEmailProviders, startEmailSims, waitFor, type EmailSims } from "./helpers";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let sims: EmailSims;

beforeAll(async () => {
  hub = await startTestHub({ role: "all", config: { workerConcurrency: 5 } });
  sims = await startEmailSims();
  await configureEmailProviders(hub.ctx, sims);
});
afterAll(async () => {
  await hub?.stop();
  await sims?.close();
});

const alert = (n: number) => ({ title: `Test alert ${n}`, severity: "info" as const, detail: "detail" });

async function send(n: number, prefix: string) {
  const { messages: rows } = await sendMessage(hub.ctx.db, {
    recipients: [`${prefix}-${n}@example.com`],
    channel: "email",
    template: "alert_raised",
    data: alert(n),
    idempotencyKey: `${prefix}:${n}`,
  });
  return rows[0]!.id;
}

async function waitSent(ids: string[], timeoutMs = 20_000) {
  return waitFor(async () => {
    const rows = await hub.ctx.db.select().from(messages).where(inArray(messages.id, ids));
    return rows.every((r) => r.status === "sent") ? rows : null;
  }, timeoutMs);
}

describe("email failover", () => {
  it("sends through Resend when it is healthy, and a repeat call with the same key sends nothing more", async () => {
    const prefix = unique("ok");
    const id = await send(1, prefix);
    const again = await sendMessage(hub.ctx.db, {
      recipients: [`${prefix}-1@example.com`],
      channel: "email",
      template: "alert_raised",
      data: alert(1),
      idempotencyKey: `${prefix}:1`,
    });
    expect(again.created).toBe(0);
    expect(again.messages[0]!.id).toBe(id);
    const [row] = await waitSent([id]);
    expect(row!.provider).toBe("resend");
    expect(sims.resend.def.outbox.countsByKey().get(row!.idempotencyKey)).toBe(1);
  });

  it("Resend down: SendGrid takes the messages within 5 s; once Resend recovers a half-open probe brings traffic back", async () => {
    const prefix = unique("fo");
    sims.resend.sim.setFaults({ errorRate: 1, errorStatus: 500 });
    const t0 = Date.now();
    const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => send(n, prefix)));
    const rows = await waitSent(ids);
    expect(rows.every((r) => r.provider === "sendgrid")).toBe(true);
    // Failover time: first failed Resend attempt -> first SendGrid acceptance.
    const attempts = await hub.ctx.db
      .select()
      .from(messageAttempts)
      .where(inArray(messageAttempts.messageId, ids))
      .orderBy(asc(messageAttempts.startedAt));
    const firstFail = attempts.find((a) => a.provider === "resend" && a.status === "failed")!;
    const firstSendgrid = attempts.find((a) => a.provider === "sendgrid" && a.status === "accepted")!;
    const failoverMs = firstSendgrid.finishedAt!.getTime() - firstFail.finishedAt!.getTime();
    console.log(
      `failover_ms=${failoverMs} total_ms=${Date.now() - t0} resend_attempts=${attempts.filter((a) => a.provider === "resend").length}`,
    );
    expect(failoverMs).toBeLessThan(5000);
    // The breaker opened after 3 failures: beyond the calls already in flight (5 workers), later messages did not try Resend.
    expect(attempts.filter((a) => a.provider === "resend" && a.status === "failed").length).toBeLessThanOrEqual(5);
    const timeline = await hub.ctx.db.select().from(messageEvents).where(eq(messageEvents.messageId, firstFail.messageId));
    expect(timeline.map((e) => e.type)).toContain("failover");

    sims.resend.sim.resetFaults();
    await new Promise((r) => setTimeout(r, 1100)); // halfOpenAfterMs
    const next = await send(99, prefix);
    const [back] = await waitSent([next]);
    expect(back!.provider).toBe("resend");
    const health = await hub.ctx.db.query.providerHealth.findFirst({ where: (h, { eq: e }) => e(h.provider, "resend") });
    expect(health?.circuitState).toBe("closed");
    for (const r of [...rows, back!]) {
      const total =
        (sims.resend.def.outbox.countsByKey().get(r.idempotencyKey) ?? 0) +
        (sims.sendgrid.def.outbox.countsByKey().get(r.idempotencyKey) ?? 0);
      expect(total).toBe(1);
    }
  });

  it("all providers down: nothing is lost or failed; everything goes out once after recovery", async () => {
    const prefix = unique("down");
    for (const s of [sims.resend, sims.sendgrid, sims.ses]) s.sim.setFaults({ errorRate: 1, errorStatus: 503 });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => send(n, prefix)));
    await new Promise((r) => setTimeout(r, 3000));
    const during = await hub.ctx.db.select().from(messages).where(inArray(messages.id, ids));
    expect(during.filter((r) => r.status === "failed" || r.status === "sent")).toEqual([]);
    for (const s of [sims.resend, sims.sendgrid, sims.ses]) s.sim.resetFaults();
    const rows = await waitSent(ids, 30_000);
    for (const r of rows) {
      const total = ["resend", "sendgrid", "ses"].reduce(
        (n, p) => n + (sims[p as "resend" | "sendgrid" | "ses"].def.outbox.countsByKey().get(r.idempotencyKey) ?? 0),
        0,
      );
      expect(total).toBe(1);
    }
  });

  it("a provider that accepts and then never answers: retried with the same key, delivered once", async () => {
    const prefix = unique("hang");
    sims.resend.def.outbox.hangAfterAccept(1);
    const id = await send(1, prefix);
    const [row] = await waitSent([id]);
    expect(row!.provider).toBe("resend");
    const attempts = await hub.ctx.db
      .select()
      .from(messageAttempts)
      .where(eq(messageAttempts.messageId, id))
      .orderBy(asc(messageAttempts.attemptNo));
    expect(attempts.map((a) => a.status)).toEqual(["ambiguous", "accepted"]);
    expect(new Set(attempts.map((a) => a.requestKey)).size).toBe(1);
    expect(sims.resend.def.outbox.countsByKey().get(row!.idempotencyKey)).toBe(1);
    expect(sims.sendgrid.def.outbox.countsByKey().get(row!.idempotencyKey)).toBeUndefined();
  });

  it("an unconfirmed send at a provider without idempotency keys goes out once more elsewhere when no event confirms it", async () => {
    const prefix = unique("unconfirmed");
    // SendGrid first (Resend switched off), hanging before it accepts anything; it asks for confirmation within 300 ms.
    await hub.ctx.db.execute(sql`update connectors set enabled = (id <> 'resend') where id in ('resend', 'sendgrid', 'ses')`);
    await hub.ctx.db.execute(
      sql`update connectors set settings = settings || '{"confirmWithinMs": 300}'::jsonb where id = 'sendgrid'`,
    );
    invalidateProviders(hub.ctx);
    sims.sendgrid.sim.setFaults({ hangRate: 1 });
    try {
      const id = await send(1, prefix);
      const to = `${prefix}-1@example.com`;
      const row = await waitFor(async () => {
        const [r] = await hub.ctx.db.select().from(messages).where(eq(messages.id, id));
        return r?.status === "sent" && r.provider === "ses" ? r : null;
      });
      const attempts = await hub.ctx.db
        .select()
        .from(messageAttempts)
        .where(eq(messageAttempts.messageId, id))
        .orderBy(asc(messageAttempts.attemptNo));
      expect(attempts.map((a) => [a.provider, a.status])).toEqual([
        ["sendgrid", "ambiguous"],
        ["ses", "accepted"],
      ]);
      expect(sims.ses.def.outbox.list().filter((e) => e.to.includes(to))).toHaveLength(1);
      expect(sims.sendgrid.def.outbox.list().filter((e) => e.to.includes(to))).toHaveLength(0);
      const timeline = await hub.ctx.db.select().from(messageEvents).where(eq(messageEvents.messageId, id));
      expect(timeline.some((e) => e.status === "queued" && String(e.detail?.reason ?? "").includes("never confirmed"))).toBe(
        true,
      );
      expect(row.statusReason).toBeNull();
    } finally {
      sims.sendgrid.sim.setFaults({ hangRate: 0 });
      await configureEmailProviders(hub.ctx, sims);
    }
  });

  it("a provider event confirms an unconfirmed send: nothing is sent again", async () => {
    const prefix = unique("confirmed");
    const id = await send(1, prefix);
    await waitSent([id]);
    // As if the send had been unconfirmed at SendGrid and SendGrid's signed event then arrived.
    await hub.ctx.db.update(messages).set({ provider: "sendgrid" }).where(eq(messages.id, id));
    await hub.ctx.db
      .insert(messageEvents)
      .values({ messageId: id, type: "provider.delivered", status: "delivered", provider: "sendgrid", source: "webhook" });
    expect(await confirmMessage(hub.ctx, id, "sendgrid")).toBe("confirmed");
    const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, id));
    expect(row!.status).toBe("sent");
  });
});
