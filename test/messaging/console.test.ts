// The messaging console over real HTTP (Express + Remix on the real database):
// the log's couple and supplier filters (and a 400 for a bad one), "Send a test
// message" (CSRF, a queued message and its audit entry; a bad recipient named
// next to its field and nothing written), provider health from provider_health
// and message_attempts, and the sandbox outbox read from the simulators.
import crypto from "node:crypto";
import * as cheerio from "cheerio";
import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, messageAttempts, messageEvents, messages, providerHealth } from "../../db/schema";
import { readSandboxOutbox } from "../../app/messaging/sandbox-outbox.server";
import { simulatorRegistry } from "../../simulators/index";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createResendSimulator } from "../../simulators/resend/index";
import { createTwilioSimulator, TWILIO_SANDBOX_ACCOUNT } from "../../simulators/twilio/index";
import { FormClient } from "../helpers/form-client";
import { makeCouple, makeSupplier, makeUser, startTestHub, unique } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let staff: FormClient;

beforeAll(async () => {
  hub = await startTestHub();
  const { email, password } = await makeUser(hub.ctx.db, "ops");
  staff = new FormClient(hub.url);
  expect((await staff.signIn(email, password)).status).toBe(302);
});
afterAll(async () => {
  await hub?.stop();
});

/** A message row as sendMessage + the engine would leave it. */
async function insertMessage(v: { coupleId?: string; supplierId?: string; channel?: "email" | "sms"; provider?: string }) {
  const key = unique("console-test-key");
  const [row] = await hub.ctx.db
    .insert(messages)
    .values({
      channel: v.channel ?? "email",
      recipient: `${unique("r")}@example.com`,
      template: "alert_raised",
      data: { title: "t", severity: "info", detail: "d" },
      idempotencyKey: key,
      requestKey: key,
      status: v.provider ? "sent" : "queued",
      provider: v.provider ?? null,
      coupleId: v.coupleId ?? null,
      supplierId: v.supplierId ?? null,
    })
    .returning();
  return row!;
}

const rowIds = (html: string) =>
  cheerio
    .load(html)("tr[data-message-id]")
    .map((_, el) => cheerio.load(el)("tr").attr("data-message-id"))
    .get();

describe("the messages log's couple and supplier filters", () => {
  it("return only the matching rows, with the couple's and supplier's names", async () => {
    const photographer = await makeSupplier(hub.ctx.db, unique("Lens Studio"));
    const florist = await makeSupplier(hub.ctx.db, unique("Petal Works"));
    const coupleA = await makeCouple(hub.ctx.db, [photographer.id]);
    const coupleB = await makeCouple(hub.ctx.db, [florist.id]);
    const a = await insertMessage({ coupleId: coupleA, supplierId: photographer.id });
    const b = await insertMessage({ coupleId: coupleB, supplierId: florist.id });
    const c = await insertMessage({ coupleId: coupleA, supplierId: florist.id, provider: "resend" });

    const all = await staff.get("/console/messages");
    expect(all.status).toBe(200);
    expect(rowIds(all.text)).toEqual(expect.arrayContaining([a.id, b.id, c.id]));

    const byCouple = await staff.get(`/console/messages?couple=${coupleA}`);
    expect(byCouple.status).toBe(200);
    expect(rowIds(byCouple.text).sort()).toEqual([a.id, c.id].sort());

    const bySupplier = await staff.get(`/console/messages?supplier=${florist.id}`);
    expect(rowIds(bySupplier.text).sort()).toEqual([b.id, c.id].sort());

    const both = await staff.get(`/console/messages?couple=${coupleA}&supplier=${florist.id}&channel=email&provider=resend`);
    expect(rowIds(both.text)).toEqual([c.id]);

    // Names, not ids, in the table; and the filter selects offer them.
    const $ = cheerio.load(byCouple.text);
    const row = $(`tr[data-message-id="${a.id}"]`);
    const [coupleName] = await hub.ctx.db
      .execute<{ display_name: string }>(sql`select display_name from couples where id = ${coupleA}`)
      .then((r) => r.rows);
    expect(row.find("td[data-couple]").text()).toBe(coupleName!.display_name);
    expect(row.find("td[data-supplier]").text()).toBe(photographer.name);
    expect($(`select[name="couple"] option[value="${coupleB}"]`).text()).not.toBe("");
    expect($(`select[name="supplier"] option[value="${florist.id}"]`).text()).toBe(florist.name);

    // A couple with no messages: an honest empty result, not everything.
    const lonely = await makeCouple(hub.ctx.db, []);
    const none = await staff.get(`/console/messages?couple=${lonely}`);
    expect(none.status).toBe(200);
    expect(rowIds(none.text)).toEqual([]);
    expect(none.text).toContain("No messages match these filters");
  });

  it("a filter that is not valid answers 400 with a message naming it, and lists nothing", async () => {
    await insertMessage({});
    const badCouple = await staff.get("/console/messages?couple=not-a-uuid");
    expect(badCouple.status).toBe(400);
    const $ = cheerio.load(badCouple.text);
    expect($("[data-filter-error]").text()).toContain("couple must be a couple's id");
    expect(rowIds(badCouple.text)).toEqual([]);

    const badSupplier = await staff.get("/console/messages?supplier=42");
    expect(badSupplier.status).toBe(400);
    expect(cheerio.load(badSupplier.text)("[data-filter-error]").text()).toContain("supplier must be a supplier's id");

    const badChannel = await staff.get("/console/messages?channel=fax");
    expect(badChannel.status).toBe(400);
    expect(cheerio.load(badChannel.text)("[data-filter-error]").text()).toContain("channel must be one of: email, sms, push");
  });
});

describe("send a test message", () => {
  const countRows = async () => {
    const [m] = await hub.ctx.db.select({ n: count() }).from(messages);
    const [a] = await hub.ctx.db.select({ n: count() }).from(auditLog).where(eq(auditLog.action, "message.test_send"));
    return { messages: m!.n, audits: a!.n };
  };

  it("queues the message with a fresh key, not critical, audits it and redirects to its timeline", async () => {
    const page = await staff.get("/console/messages/send");
    expect(page.status).toBe(200);
    const $ = cheerio.load(page.text);
    expect($('select[name="template"] option[value="wedding_reminder"]').text()).toBe("Wedding reminder");

    const recipient = `${unique("test")}@Example.com`;
    const form = { channel: "email", template: "wedding_reminder", recipient };
    expect((await staff.post("/console/messages/send", form, { withCsrf: false })).status).toBe(403);

    const res = await staff.post("/console/messages/send", form);
    expect(res.status).toBe(302);
    const id = /^\/console\/messages\/([0-9a-f-]{36})$/.exec(res.location ?? "")?.[1];
    expect(id, res.location ?? "no location").toBeTruthy();
    const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, id!));
    expect(row).toMatchObject({
      channel: "email",
      recipient: recipient.toLowerCase(),
      template: "wedding_reminder",
      status: "queued",
      critical: false,
    });
    expect(row!.requestKey).toMatch(/^console-test:[0-9a-f-]{36}$/);
    expect(row!.data).toMatchObject({ coupleName: "Ava & Noah" });
    const [job] = await hub.ctx.db
      .execute<{ n: number }>(sql`select count(*)::int as n from graphile_worker.jobs where key = ${`message:${id}`}`)
      .then((r) => r.rows);
    expect(job!.n).toBe(1);
    const audits = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "message.test_send"), eq(auditLog.entityId, id!)));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: "user", entityType: "message" });

    // The same form again is a new message (a fresh idempotency key each time).
    const again = await staff.post("/console/messages/send", form);
    expect(again.status).toBe(302);
    expect(again.location).not.toBe(res.location);

    const timeline = await staff.get(res.location!);
    expect(timeline.status).toBe(200);
    expect(cheerio.load(timeline.text)("h1").text()).toBe(`wedding_reminder → ${recipient.toLowerCase()}`);
  });

  it("refuses a bad recipient next to its field and writes nothing", async () => {
    await staff.get("/console/messages/send");
    const before = await countRows();
    const sms = await staff.post("/console/messages/send", {
      channel: "sms",
      template: "alert_raised",
      recipient: "07700 900123",
    });
    expect(sms.status).toBe(422);
    const $ = cheerio.load(sms.text);
    expect($("#recipient").attr("aria-invalid")).toBe("true");
    expect($("#recipient").attr("aria-describedby")).toContain("recipient-error");
    expect($("#recipient-error").text()).toContain("must be a mobile number in E.164 form");
    expect($("#recipient").attr("value")).toBe("07700 900123");
    expect($('[role="alert"]').text()).toContain("Nothing was sent");

    const email = await staff.post("/console/messages/send", { channel: "email", template: "alert_raised", recipient: "nobody" });
    expect(email.status).toBe(422);
    expect(cheerio.load(email.text)("#recipient-error").text()).toContain("must be an email address");

    const push = await staff.post("/console/messages/send", {
      channel: "push",
      template: "alert_raised",
      recipient: crypto.randomUUID(),
    });
    expect(push.status).toBe(422);
    expect(cheerio.load(push.text)("#recipient-error").text()).toContain("no user has this id");

    const template = await staff.post("/console/messages/send", {
      channel: "email",
      template: "no_such_template",
      recipient: "someone@example.com",
    });
    expect(template.status).toBe(422);
    expect(cheerio.load(template.text)("#template-error").text()).toContain("Choose a template from the catalog");

    const channel = await staff.post("/console/messages/send", { channel: "fax", template: "alert_raised", recipient: "x" });
    expect(channel.status).toBe(422);
    expect(cheerio.load(channel.text)("#channel-error").text()).toContain("Choose email, SMS or push");

    expect(await countRows()).toEqual(before);
  });
});

describe("provider health", () => {
  it("shows an open circuit recorded in provider_health, the recent success rate, the last error and a Retry-After", async () => {
    const openedAt = new Date(Date.now() - 2_000);
    await hub.ctx.db
      .insert(providerHealth)
      .values({
        provider: "sendgrid",
        channel: "email",
        circuitState: "open",
        successes: 7,
        failures: 3,
        consecutiveFailures: 3,
        lastError: "HTTP 503: SendGrid is down for maintenance",
        lastFailureAt: openedAt,
        openedAt,
      })
      .onConflictDoUpdate({
        target: providerHealth.provider,
        set: { circuitState: "open", lastError: "HTTP 503: SendGrid is down for maintenance", openedAt },
      });
    // Resend: 3 accepted, 1 provider failure, 1 message rejected (counts as the provider working, as for the breaker) -> 80 %.
    const m = await insertMessage({ provider: "resend" });
    const attempt = (no: number, status: "accepted" | "failed" | "rate_limited", extra: Record<string, unknown> = {}) => ({
      messageId: m.id,
      attemptNo: no,
      provider: "resend",
      status,
      requestKey: m.idempotencyKey,
      startedAt: new Date(Date.now() - 10_000 + no * 100),
      finishedAt: new Date(Date.now() - 10_000 + no * 100 + 50),
      ...extra,
    });
    await hub.ctx.db
      .insert(messageAttempts)
      .values([
        attempt(1, "accepted"),
        attempt(2, "failed", { httpStatus: 500 }),
        attempt(3, "accepted"),
        attempt(4, "accepted"),
      ]);
    const m2 = await insertMessage({ provider: "resend" });
    const [rejected] = await hub.ctx.db
      .insert(messageAttempts)
      .values({ ...attempt(1, "failed", { httpStatus: 422 }), messageId: m2.id, requestKey: m2.idempotencyKey })
      .returning();
    await hub.ctx.db
      .insert(messageEvents)
      .values({ messageId: m2.id, attemptId: rejected!.id, type: "status", status: "failed", provider: "resend" });
    // SES answered 429 with Retry-After: 60 a moment ago.
    const m3 = await insertMessage({});
    await hub.ctx.db.insert(messageAttempts).values({
      messageId: m3.id,
      attemptNo: 1,
      provider: "ses",
      status: "rate_limited",
      requestKey: m3.idempotencyKey,
      httpStatus: 429,
      retryAfterMs: 60_000,
      startedAt: new Date(Date.now() - 1_000),
      finishedAt: new Date(),
    });

    const page = await staff.get("/console/messages/providers");
    expect(page.status).toBe(200);
    const $ = cheerio.load(page.text);
    expect(
      $("tr[data-provider]")
        .map((_, el) => $(el).attr("data-provider"))
        .get()
        .sort(),
    ).toEqual(["resend", "sendgrid", "ses", "smtp", "twilio", "web-push"]);

    const sendgrid = $('tr[data-provider="sendgrid"]');
    expect(sendgrid.attr("data-circuit")).toBe("open");
    expect(sendgrid.find("[data-circuit-state]").text()).toContain("open");
    expect(sendgrid.find("[data-circuit-state]").text()).toContain("3 failures in a row");
    expect(sendgrid.find("[data-last-error]").text()).toContain("HTTP 503: SendGrid is down for maintenance");
    // No credentials and no simulators in this hub: enabled, but not configured; priority from the defaults.
    expect(sendgrid.find("td[data-enabled]").text()).toBe("yes");
    expect(sendgrid.find("td[data-configured]").attr("data-configured")).toBe("false");
    expect(sendgrid.find("td").eq(3).text()).toBe("20");

    const resend = $('tr[data-provider="resend"]');
    expect(resend.attr("data-circuit")).toBe("never_used");
    expect(resend.find("td[data-success-rate]").attr("data-success-rate")).toBe("0.80");
    expect(resend.find("td[data-success-rate]").text()).toContain("(4 of 5)");

    const ses = $('tr[data-provider="ses"]');
    const until = Date.parse(ses.find("td[data-blocked-until]").attr("data-blocked-until") ?? "");
    expect(until).toBeGreaterThan(Date.now() + 50_000);
    expect(until).toBeLessThan(Date.now() + 61_000);
    expect($('tr[data-provider="twilio"] td[data-blocked-until]').attr("data-blocked-until")).toBe("");
  });

  it("after the circuit closes again the page says so", async () => {
    await hub.ctx.db
      .update(providerHealth)
      .set({ circuitState: "closed", consecutiveFailures: 0 })
      .where(eq(providerHealth.provider, "sendgrid"));
    const $ = cheerio.load((await staff.get("/console/messages/providers")).text);
    expect($('tr[data-provider="sendgrid"]').attr("data-circuit")).toBe("closed");
  });
});

describe("the sandbox outbox", () => {
  it("says honestly that no simulators run in a hub without them", async () => {
    const page = await staff.get("/console/messages/outbox");
    expect(page.status).toBe(200);
    expect(page.text).toContain("No simulators are running");
  });

  describe("with simulators", () => {
    const resendDef = createResendSimulator();
    const twilioDef = createTwilioSimulator();
    const sims: RunningSimulator[] = [];
    let base = 0;
    beforeAll(async () => {
      // The hub finds its simulators at basePort + registry index: run two of them there.
      const idx = (name: string) => simulatorRegistry.findIndex((d) => d.name === name);
      for (let tries = 0; tries < 5 && sims.length < 2; tries++) {
        base = 30_000 + crypto.randomInt(0, 20_000);
        try {
          sims.push(await startSimulator(resendDef, { port: base + idx("resend") }));
          sims.push(await startSimulator(twilioDef, { port: base + idx("twilio") }));
        } catch {
          await Promise.all(sims.splice(0).map((s) => s.close()));
        }
      }
      expect(sims).toHaveLength(2);
    });
    afterAll(async () => {
      await Promise.all(sims.map((s) => s.close()));
    });

    it("lists what the simulators received, newest first, linked to the hub's message; an absent simulator is named", async () => {
      const message = await insertMessage({ provider: "resend" });
      resendDef.outbox.add({
        id: "older-email",
        key: "someone-else",
        from: "WedSync <notifications@wedsync.example>",
        to: ["old@example.com"],
        subject: "Older",
        html: "<p>older</p>",
        text: "older",
        attachments: [],
      });
      await new Promise((r) => setTimeout(r, 5));
      resendDef.outbox.add({
        id: "newer-email",
        key: message.idempotencyKey,
        from: "WedSync <notifications@wedsync.example>",
        to: [message.recipient],
        subject: "Ava & Noah's wedding is in 7 days",
        html: "<html><body><h1>Ava &amp; Noah</h1></body></html>",
        text: "Ava & Noah",
        attachments: [{ filename: "invite.ics", contentType: "text/calendar", size: 300 }],
      });
      await new Promise((r) => setTimeout(r, 5));
      const auth = Buffer.from(`${TWILIO_SANDBOX_ACCOUNT.accountSid}:${TWILIO_SANDBOX_ACCOUNT.authToken}`).toString("base64");
      const sent = await fetch(`${sims[1]!.url}/2010-04-01/Accounts/${TWILIO_SANDBOX_ACCOUNT.accountSid}/Messages.json`, {
        method: "POST",
        headers: { authorization: `Basic ${auth}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ To: "+447700900123", From: TWILIO_SANDBOX_ACCOUNT.from, Body: "Reminder: Ava & Noah" }),
      });
      expect(sent.status).toBe(201);

      // The simulator-only listing itself: newest first, limited.
      const listing = (await (await fetch(`${sims[0]!.url}/__sim/outbox?limit=1`)).json()) as {
        total: number;
        emails: { id: string }[];
      };
      expect(listing.total).toBe(2);
      expect(listing.emails.map((e) => e.id)).toEqual(["newer-email"]);

      const outbox = await readSandboxOutbox({
        ...hub.ctx,
        config: { ...hub.ctx.config, simulators: true, simulatorBasePort: base },
      });
      if (!outbox.running) throw new Error("expected running simulators");
      expect(outbox.entries.map((e) => `${e.channel}:${e.simulator}`)).toEqual(["sms:twilio", "email:resend", "email:resend"]);
      const sms = outbox.entries[0]!;
      expect(sms).toMatchObject({ channel: "sms", to: "+447700900123", body: "Reminder: Ava & Noah" });
      const email = outbox.entries[1]!;
      expect(email).toMatchObject({
        channel: "email",
        subject: "Ava & Noah's wedding is in 7 days",
        html: expect.stringContaining("<h1>Ava &amp; Noah</h1>"),
        text: "Ava & Noah",
        messageId: message.id,
      });
      expect(outbox.entries[2]!.messageId).toBeNull();
      const sources = Object.fromEntries(outbox.sources.map((s) => [s.simulator, s]));
      expect(sources.resend).toMatchObject({ ok: true, total: 2 });
      expect(sources.twilio).toMatchObject({ ok: true, total: 1 });
      expect(sources.sendgrid).toMatchObject({ ok: false, error: expect.stringContaining("could not be reached") });
    });
  });
});
