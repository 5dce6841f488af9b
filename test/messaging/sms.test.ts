// SMS through the real twilio SDK against the Twilio simulator, and Twilio's
// webhooks into a real hub: signatures checked with twilio.validateRequest
// against the public URL (403 and nothing changes when wrong), statuses on the
// timeline, STOP/START recorded as an opt-out the send path honours.
import crypto from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq, isNull, sql } from "drizzle-orm";
import { connectors, messageEvents, messages, suppressions } from "../../db/schema";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import {
  createTwilioSimulator,
  twilioSignature,
  TWILIO_SIM_UNDELIVERABLE,
  type TwilioAccount,
} from "../../simulators/twilio/index";
import { countSegments } from "../../app/messaging/sms/segments";
import { normalizePhone } from "../../app/messaging/sms/phone";
import { createTwilioProvider, statusCallbackFor, type TwilioProvider } from "../../app/messaging/sms/twilio.server";
import { loadTwilioSettings, TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH } from "../../app/messaging/sms/config.server";
import { isSmsOptedOut } from "../../app/messaging/sms/opt-out.server";
import type { AttemptContext, OutboundMessage, SmsContent } from "../../app/messaging/types";
import { sendMessage } from "../../app/messaging/send.server";
import { startTestHub, unique } from "../helpers/hub";
import { waitFor } from "./helpers";

const account: TwilioAccount = {
  accountSid: `AC${crypto.randomBytes(16).toString("hex")}`,
  authToken: crypto.randomBytes(16).toString("hex"),
  numbers: ["+447700900001"],
};
const FROM = account.numbers[0]!;
const sim = createTwilioSimulator({ accounts: [account], callbackDelayMs: 5 });
let running: RunningSimulator;
let hub: Awaited<ReturnType<typeof startTestHub>>;
let provider: TwilioProvider;

beforeAll(async () => {
  running = await startSimulator(sim);
  // Role "all": the end-to-end test below needs the worker that runs deliver_message.
  hub = await startTestHub({ role: "all", config: { providerApiRoots: { twilio: running.url }, workerConcurrency: 2 } });
  await hub.ctx.db
    .insert(connectors)
    .values({
      id: "twilio",
      settings: { from: FROM },
      secretsEnc: hub.ctx.vault.encryptJson({ accountSid: account.accountSid, authToken: account.authToken }),
    })
    .onConflictDoUpdate({
      target: connectors.id,
      set: {
        settings: { from: FROM },
        secretsEnc: hub.ctx.vault.encryptJson({ accountSid: account.accountSid, authToken: account.authToken }),
      },
    });
  const settings = await loadTwilioSettings(hub.ctx);
  expect(settings).not.toBeNull();
  provider = createTwilioProvider(settings!);
  sim.twilio.setSmsUrl(FROM, `${hub.url}${TWILIO_INBOUND_PATH}`);
});
afterAll(async () => {
  await hub?.stop();
  await running?.close();
});
beforeEach(() => running.resetFaults());

function attempt(requestKey: string = crypto.randomUUID()): AttemptContext {
  return { attemptId: crypto.randomUUID(), attemptNo: 1, requestKey, signal: AbortSignal.timeout(5000) };
}

function outbound(to: string, body: string, id: string = crypto.randomUUID()): OutboundMessage<SmsContent> {
  return {
    id,
    channel: "sms",
    recipient: to,
    template: "t",
    idempotencyKey: id,
    priority: 0,
    critical: false,
    content: { channel: "sms", to, body },
  };
}

/** A stored message as the core would have it after Twilio accepted it. */
async function storedMessage(to: string, key: string, sid: string) {
  const [row] = await hub.ctx.db
    .insert(messages)
    .values({
      channel: "sms",
      recipient: to,
      template: "wedding-reminder",
      idempotencyKey: key,
      status: "sent",
      provider: "twilio",
      providerMessageId: sid,
    })
    .returning();
  return row!;
}

const phone = () => `+4477009${String(crypto.randomInt(10000, 99999))}`;

describe("E.164 and segments", () => {
  it("normalises national and international spellings, and refuses invalid numbers with a reason", () => {
    expect(normalizePhone("07911 123456", "GB")).toMatchObject({ ok: true, e164: "+447911123456" });
    expect(normalizePhone("+1 (415) 555-2671")).toMatchObject({ ok: true, e164: "+14155552671" });
    expect(normalizePhone("0044 7911 123456", "GB")).toMatchObject({ ok: true, e164: "+447911123456" });
    // Ofcom's drama range is well-formed but not a real number: "max" metadata refuses it.
    expect(normalizePhone("07700 900123", "GB")).toMatchObject({
      ok: false,
      error: expect.stringContaining("not a valid number in GB"),
    });
    expect(normalizePhone("(415) 555-2671", "US")).toMatchObject({ ok: true, e164: "+14155552671" });
    expect(normalizePhone("07911 123456")).toEqual({ ok: false, error: expect.stringContaining("no country code") });
    expect(normalizePhone("+44 1234", "GB")).toMatchObject({ ok: false });
    expect(normalizePhone("not a phone", "GB")).toMatchObject({
      ok: false,
      error: expect.stringContaining("not a phone number"),
    });
    expect(normalizePhone("+44 7700 900 12345 678")).toMatchObject({ ok: false });
  });

  it.each([
    ["", "GSM-7", 0],
    ["a".repeat(160), "GSM-7", 1],
    ["a".repeat(161), "GSM-7", 2],
    ["a".repeat(306), "GSM-7", 2],
    ["a".repeat(307), "GSM-7", 3],
    // The extension table (€ ^ { } [ ] ~ | \) costs two septets.
    ["€".repeat(80), "GSM-7", 1],
    ["€".repeat(81), "GSM-7", 2],
    ["é".repeat(160), "GSM-7", 1], // é is in the GSM-7 basic set
    ["ê".repeat(70), "UCS-2", 1], // ê is not
    ["ê".repeat(71), "UCS-2", 2],
    ["ê".repeat(134), "UCS-2", 2],
    ["ê".repeat(135), "UCS-2", 3],
    // An emoji is a surrogate pair: two UCS-2 units, never split across segments.
    ["💍".repeat(35), "UCS-2", 1],
    ["💍".repeat(36), "UCS-2", 2],
    ["See you at the venue 💐 " + "x".repeat(50), "UCS-2", 2],
  ])("body %# is %s in %i segment(s)", (body, encoding, segments) => {
    const c = countSegments(body);
    expect(c.encoding).toBe(encoding);
    expect(c.segments).toBe(segments);
  });
});

describe("sending through the twilio SDK", () => {
  it("sends to the simulator with Basic auth and form body, and returns the SID", async () => {
    const to = phone();
    const result = await provider.send(outbound(to, "Your wedding is in 7 days 💍"), attempt());
    expect(result).toMatchObject({ outcome: "accepted", providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) });
    const got = sim.twilio.messages().find((m) => m.to === to)!;
    expect(got).toMatchObject({ from: FROM, body: "Your wedding is in 7 days 💍", encoding: "UCS-2", numSegments: 1 });
    expect(got.statusCallback).toContain(`${hub.url}${TWILIO_STATUS_PATH}?key=`);
  });

  it("maps Twilio's errors: invalid number is the message's fault, 429 carries Retry-After, bad auth is the provider's", async () => {
    expect(await provider.send(outbound("+15005550001", "hi"), attempt())).toMatchObject({
      outcome: "failed",
      scope: "message",
      error: expect.stringContaining("21211"),
    });
    expect(await provider.send(outbound("447700900123", "hi"), attempt())).toMatchObject({ outcome: "failed", scope: "message" });
    running.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7 });
    expect(await provider.send(outbound(phone(), "hi"), attempt())).toMatchObject({
      outcome: "rate_limited",
      retryAfterMs: 7000,
    });
    running.resetFaults();
    running.setFaults({ errorRate: 1 });
    expect(await provider.send(outbound(phone(), "hi"), attempt())).toMatchObject({
      outcome: "failed",
      scope: "provider",
      httpStatus: 503,
    });
    running.resetFaults();
    const wrong = createTwilioProvider({ ...(await loadTwilioSettings(hub.ctx))!, authToken: "x".repeat(32) });
    expect(await wrong.send(outbound(phone(), "hi"), attempt())).toMatchObject({
      outcome: "failed",
      scope: "provider",
      httpStatus: 401,
    });
  });

  it("a call that hangs past the engine's timeout is ambiguous (it may have been sent)", async () => {
    running.setFaults({ hangRate: 1 });
    const a = { ...attempt(), signal: AbortSignal.timeout(200) };
    expect(await provider.send(outbound(phone(), "hi"), a)).toMatchObject({ outcome: "ambiguous" });
    running.resetFaults();
  });

  it("refuses a connection-refused root as the provider's failure (nothing was sent)", async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dead = createTwilioProvider({ ...(await loadTwilioSettings(hub.ctx))!, apiRoot: `http://127.0.0.1:${port}` });
    expect(await dead.send(outbound(phone(), "hi"), attempt())).toMatchObject({ outcome: "failed", scope: "provider" });
  });
});

describe("status callbacks", () => {
  async function postStatus(url: string, params: Record<string, string>, signature: string | null) {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    if (signature !== null) headers["X-Twilio-Signature"] = signature;
    return fetch(url, { method: "POST", headers, body: new URLSearchParams(params) });
  }
  const timeline = (messageId: string) => hub.ctx.db.select().from(messageEvents).where(eq(messageEvents.messageId, messageId));

  it("the simulator's signed callbacks put sent and delivered on the timeline", async () => {
    const to = phone();
    const key = `key-${crypto.randomUUID()}`;
    const res = await provider.send(outbound(to, "Final details"), attempt(key));
    expect(res.outcome).toBe("accepted");
    const sid = res.outcome === "accepted" ? res.providerMessageId! : "";
    const msg = await storedMessage(to, key, sid);
    await sim.twilio.settled();
    const events = await timeline(msg.id);
    expect(events.map((e) => e.type)).toEqual(["provider.sent", "provider.delivered"]);
    expect(events.every((e) => e.source === "webhook" && e.provider === "twilio")).toBe(true);
    const [after] = await hub.ctx.db.select().from(messages).where(eq(messages.id, msg.id));
    expect(after!.status).toBe("delivered");
  });

  it("undelivered becomes failed with Twilio's error code", async () => {
    const key = `key-${crypto.randomUUID()}`;
    const res = await provider.send(outbound(TWILIO_SIM_UNDELIVERABLE, "x"), attempt(key));
    const msg = await storedMessage(TWILIO_SIM_UNDELIVERABLE, key, res.outcome === "accepted" ? res.providerMessageId! : "");
    await sim.twilio.settled();
    const [after] = await hub.ctx.db.select().from(messages).where(eq(messages.id, msg.id));
    expect(after).toMatchObject({ status: "failed", statusReason: "Twilio undelivered (error 30003)" });
  });

  it("a bad or missing signature gets 403 and changes nothing; a valid one is recorded once", async () => {
    const to = phone();
    const key = `key-${crypto.randomUUID()}`;
    const sid = `SM${crypto.randomBytes(16).toString("hex")}`;
    const msg = await storedMessage(to, key, sid);
    const url = statusCallbackFor(`${hub.url}${TWILIO_STATUS_PATH}`, key);
    const params = {
      AccountSid: account.accountSid,
      MessageSid: sid,
      MessageStatus: "delivered",
      To: to,
      From: FROM,
      ApiVersion: "2010-04-01",
    };

    expect((await postStatus(url, params, null)).status).toBe(403);
    expect((await postStatus(url, params, twilioSignature("wrong-token-wrong-token", url, params))).status).toBe(403);
    // Signed for other parameters (tampered body) or another URL (the key swapped).
    expect(
      (await postStatus(url, { ...params, MessageStatus: "failed" }, twilioSignature(account.authToken, url, params))).status,
    ).toBe(403);
    expect((await postStatus(url, params, twilioSignature(account.authToken, `${hub.url}/elsewhere`, params))).status).toBe(403);
    expect(await timeline(msg.id)).toEqual([]);
    const [unchanged] = await hub.ctx.db.select().from(messages).where(eq(messages.id, msg.id));
    expect(unchanged!.status).toBe("sent");

    const good = twilioSignature(account.authToken, url, params);
    expect((await postStatus(url, params, good)).status).toBe(200);
    expect((await postStatus(url, params, good)).status).toBe(200); // replay: no second event
    const events = await timeline(msg.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "provider.delivered", status: "delivered", externalId: `${sid}:delivered` });
  });
});

describe("STOP and START", () => {
  const activeSuppression = (to: string) =>
    hub.ctx.db
      .select()
      .from(suppressions)
      .where(and(eq(suppressions.channel, "sms"), eq(suppressions.address, to), isNull(suppressions.liftedAt)));

  it("STOP records the opt-out and suppresses the number; START lifts it; HELP and chat change nothing", async () => {
    const from = phone();
    const stop = await sim.twilio.sendInbound({ from, to: FROM, body: " stop " });
    expect(stop.status).toBe(200);
    expect(stop.responseBody).toContain("<Response");
    expect(await isSmsOptedOut(hub.ctx.db, from)).toBe(true);
    expect(await activeSuppression(from)).toHaveLength(1);

    // Twilio itself now refuses the number (21610), which is the message's failure, not the provider's.
    expect(await provider.send(outbound(from, "hi"), attempt())).toMatchObject({
      outcome: "failed",
      scope: "message",
      error: expect.stringContaining("21610"),
    });

    const help = await sim.twilio.sendInbound({ from, to: FROM, body: "HELP" });
    expect(help.status).toBe(200);
    expect(await isSmsOptedOut(hub.ctx.db, from)).toBe(true);
    const chat = await sim.twilio.sendInbound({ from, to: FROM, body: "Is the venue parking free?" });
    expect(chat.responseBody).toContain("<Message>");

    const start = await sim.twilio.sendInbound({ from, to: FROM, body: "START" });
    expect(start.status).toBe(200);
    expect(await isSmsOptedOut(hub.ctx.db, from)).toBe(false);
    expect(await activeSuppression(from)).toHaveLength(0);
    expect(await provider.send(outbound(from, "hi again"), attempt())).toMatchObject({ outcome: "accepted" });
  });

  it("an inbound webhook with a bad signature gets 403 and records nothing", async () => {
    const from = phone();
    const params = {
      AccountSid: account.accountSid,
      MessageSid: `SM${crypto.randomBytes(16).toString("hex")}`,
      From: from,
      To: FROM,
      Body: "STOP",
    };
    const res = await fetch(`${hub.url}${TWILIO_INBOUND_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl" },
      body: new URLSearchParams(params),
    });
    expect(res.status).toBe(403);
    expect(await isSmsOptedOut(hub.ctx.db, from)).toBe(false);
  });
});

describe("end to end through sendMessage", () => {
  const sentTo = (to: string) => sim.twilio.messages().filter((m) => m.to === to);
  const send = (recipient: string, phoneRegion?: string) =>
    sendMessage(hub.ctx.db, {
      recipients: [recipient],
      channel: "sms",
      template: "alert_raised",
      data: { title: "Ceremony moved to 15:30", severity: "warning", detail: "Please update your timeline." },
      idempotencyKey: unique("sms-e2e"),
      ...(phoneRegion ? { phoneRegion } : {}),
    });

  it("a nationally written number is sent once as E.164, tracked to delivered; after STOP the next send is suppressed and Twilio sees nothing more", async () => {
    // A real UK mobile range (libphonenumber checks the numbering plan; 07700 900xxx is fiction-only).
    const e164 = `+4474001${crypto.randomInt(10000, 99999)}`;
    const national = `07400 ${e164.slice(7)}`;
    const first = await send(national, "GB");
    expect(first.messages[0]!.recipient).toBe(e164);
    const delivered = await waitFor(async () => {
      const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, first.messages[0]!.id));
      return row?.status === "delivered" ? row : null;
    });
    expect(delivered.provider).toBe("twilio");
    expect(sentTo(e164)).toHaveLength(1);
    expect(sentTo(e164)[0]!.body).toContain("Ceremony moved to 15:30");

    const stop = await sim.twilio.sendInbound({ from: e164, to: FROM, body: "STOP" });
    expect(stop.status).toBe(200);
    const second = await send(e164);
    expect(second.messages[0]!.status).toBe("suppressed");
    expect(second.messages[0]!.statusReason).toContain("suppressed");
    // Nothing was queued for it, so nothing can reach Twilio later either.
    const jobs = await hub.ctx.db.execute<{ n: string }>(
      sql`select count(*) as n from graphile_worker._private_jobs where payload->>'messageId' = ${second.messages[0]!.id}`,
    );
    expect(Number(jobs.rows[0]!.n)).toBe(0);
    await sim.twilio.settled();
    expect(sentTo(e164)).toHaveLength(1);
  });

  it("refuses a number that cannot be read with a reason a person can act on, writing nothing", async () => {
    await expect(send("07700 900")).rejects.toThrow(/phone number/i);
    await expect(send("12345", "GB")).rejects.toThrow(/not a valid number|too short|phone number/i);
  });
});
