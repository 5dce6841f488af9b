// Delivery events back in, over a real hub: a signed bounce from each email
// simulator (Resend/Svix, SendGrid/ECDSA, SES/SNS) lands on the message's
// timeline, marks it bounced and suppresses the address, so the next send to
// it ends "suppressed"; forged and replayed events get 401 and change nothing;
// an SNS certificate on a foreign host is refused; a SubscriptionConfirmation
// is confirmed.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync, randomUUID, sign as ecdsaSign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, isNull, sql } from "drizzle-orm";
import { messageEvents, messages, suppressions } from "../../db/schema";
import { sendMessage } from "../../app/messaging/send.server";
import { invalidateProviders } from "../../app/messaging/registry.server";
import { startTestHub, unique } from "../helpers/hub";
import { configureEmailProviders, startEmailSims, waitFor, type EmailSims } from "./helpers";

type Provider = "resend" | "sendgrid" | "ses";
let hub: Awaited<ReturnType<typeof startTestHub>>;
let sims: EmailSims;
const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

beforeAll(async () => {
  hub = await startTestHub({ role: "all", config: { workerConcurrency: 3 } });
  sims = await startEmailSims();
  await configureEmailProviders(hub.ctx, sims);
  // Verification material as staff would set it: the Svix secret encrypted, SendGrid's public key in settings.
  const resendSecrets = hub.ctx.vault.encryptJson({ apiKey: "re_test", webhookSecret: WEBHOOK_SECRET });
  await hub.ctx.db.execute(sql`update connectors set secrets_enc = ${resendSecrets} where id = 'resend'`);
  await hub.ctx.db.execute(
    sql`update connectors set settings = settings || ${JSON.stringify({ eventWebhookPublicKey: sims.sendgrid.def.publicKey })}::jsonb where id = 'sendgrid'`,
  );
  sims.resend.def.setWebhook(`${hub.url}/messaging/events/resend`, WEBHOOK_SECRET);
  sims.sendgrid.def.setWebhook(`${hub.url}/messaging/events/sendgrid`);
  sims.ses.def.setWebhook(`${hub.url}/messaging/events/ses`);
});
afterAll(async () => {
  await hub?.stop();
  await sims?.close();
});

/** Only `provider` is enabled, so the message goes through it. */
async function only(provider: Provider) {
  await hub.ctx.db.execute(sql`update connectors set enabled = (id = ${provider}) where id in ('resend', 'sendgrid', 'ses')`);
  invalidateProviders(hub.ctx);
}

async function sendVia(provider: Provider, to: string) {
  await only(provider);
  const { messages: rows } = await sendMessage(hub.ctx.db, {
    recipients: [to],
    channel: "email",
    template: "alert_raised",
    data: { title: "Bounce me", severity: "info", detail: "d" },
    idempotencyKey: unique("ev"),
  });
  return waitFor(async () => {
    const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, rows[0]!.id));
    return row?.status === "sent" && row.providerMessageId ? row : null;
  });
}

async function snapshot(messageId: string, address: string) {
  const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, messageId));
  const events = await hub.ctx.db.select().from(messageEvents).where(eq(messageEvents.messageId, messageId));
  const supp = await hub.ctx.db
    .select()
    .from(suppressions)
    .where(and(eq(suppressions.address, address), isNull(suppressions.liftedAt)));
  return { status: row!.status, events: events.length, suppressions: supp.length };
}

async function nextSendStatus(to: string) {
  const { messages: rows } = await sendMessage(hub.ctx.db, {
    recipients: [to],
    channel: "email",
    template: "alert_raised",
    data: { title: "Again", severity: "info", detail: "d" },
    idempotencyKey: unique("again"),
  });
  return rows[0]!.status;
}

const post = (provider: Provider, body: string, headers: Record<string, string>) =>
  fetch(`${hub.url}/messaging/events/${provider}`, { method: "POST", headers, body });

describe("delivery events", () => {
  it("Resend (Svix): a signed bounce suppresses; forged and replayed events get 401 and change nothing", async () => {
    const to = `${unique("rb")}@example.com`;
    const msg = await sendVia("resend", to);

    const delivered = await sims.resend.def.sendEvent("email.delivered", msg.providerMessageId!);
    expect(delivered.status).toBe(200);
    expect((await snapshot(msg.id, to)).status).toBe("delivered");

    // Forged: the body changed after signing.
    const forgedBody = delivered.body.replace("email.delivered", "email.bounced");
    const before = await snapshot(msg.id, to);
    expect((await post("resend", forgedBody, delivered.headers)).status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(before);

    const bounced = await sims.resend.def.sendEvent("email.bounced", msg.providerMessageId!);
    expect(bounced.status).toBe(200);
    const after = await snapshot(msg.id, to);
    expect(after).toMatchObject({ status: "bounced", suppressions: 1 });

    // Replayed: the same svix-id, body and signature again.
    expect((await post("resend", bounced.body, bounced.headers)).status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(after);

    const [timeline] = await hub.ctx.db
      .select()
      .from(messageEvents)
      .where(and(eq(messageEvents.messageId, msg.id), eq(messageEvents.externalId, bounced.svixId)));
    expect(timeline).toMatchObject({ type: "provider.bounced", source: "webhook", provider: "resend" });
    expect(await nextSendStatus(to)).toBe("suppressed");
  });

  it("SendGrid (ECDSA): a signed bounce suppresses; a forged signature and a replay get 401", async () => {
    const to = `${unique("sb")}@example.com`;
    const msg = await sendVia("sendgrid", to);
    expect(msg.provider).toBe("sendgrid");

    // Forged: the right shape, signed with another key.
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const ts = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify([
      {
        email: to,
        timestamp: Number(ts),
        event: "bounce",
        sg_event_id: randomUUID(),
        sg_message_id: `${msg.providerMessageId}.x`,
      },
    ]);
    const before = await snapshot(msg.id, to);
    const forged = await post("sendgrid", body, {
      "content-type": "application/json",
      "X-Twilio-Email-Event-Webhook-Signature": ecdsaSign("sha256", Buffer.from(ts + body), other.privateKey).toString("base64"),
      "X-Twilio-Email-Event-Webhook-Timestamp": ts,
    });
    expect(forged.status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(before);

    const bounced = await sims.sendgrid.def.sendEvent("bounce", msg.providerMessageId!);
    expect(bounced.status).toBe(200);
    const after = await snapshot(msg.id, to);
    expect(after).toMatchObject({ status: "bounced", suppressions: 1 });

    expect((await post("sendgrid", bounced.body, bounced.headers)).status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(after);
    expect(await nextSendStatus(to)).toBe("suppressed");
  });

  it("SES via SNS: a signed bounce suppresses; tampered, replayed and foreign-certificate envelopes get 401", async () => {
    const to = `${unique("eb")}@example.com`;
    const msg = await sendVia("ses", to);
    expect(msg.provider).toBe("ses");
    const before = await snapshot(msg.id, to);

    // Tampered after signing.
    const signed = await sims.ses.def.signEnvelope({
      Type: "Notification",
      MessageId: randomUUID(),
      TopicArn: "arn:aws:sns:eu-west-1:000000000000:hub-ses-events",
      Message: JSON.stringify({ eventType: "Delivery", mail: { messageId: msg.providerMessageId } }),
      Timestamp: new Date().toISOString(),
    });
    const tampered = { ...signed, Message: signed.Message!.replace("Delivery", "Complaint") };
    expect((await post("ses", JSON.stringify(tampered), { "content-type": "text/plain" })).status).toBe(401);
    // Validly signed, but its SigningCertURL is on a host the sandbox policy does not allow (localhost, not 127.0.0.1).
    const foreign = { ...signed, SigningCertURL: signed.SigningCertURL!.replace("127.0.0.1", "localhost") };
    expect((await post("ses", JSON.stringify(foreign), { "content-type": "text/plain" })).status).toBe(401);
    const evil = { ...signed, SigningCertURL: "https://sns.evil.example.com/SimpleNotificationService.pem" };
    expect((await post("ses", JSON.stringify(evil), { "content-type": "text/plain" })).status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(before);

    const bounced = await sims.ses.def.sendEvent("Bounce", msg.providerMessageId!);
    expect(bounced.status).toBe(200);
    const after = await snapshot(msg.id, to);
    expect(after).toMatchObject({ status: "bounced", suppressions: 1 });

    expect((await post("ses", bounced.body, { "content-type": "text/plain" })).status).toBe(401);
    expect(await snapshot(msg.id, to)).toEqual(after);
    expect(await nextSendStatus(to)).toBe("suppressed");
  });

  it("SES via SNS: a signed SubscriptionConfirmation is confirmed by visiting SubscribeURL", async () => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end("<ConfirmSubscriptionResponse/>");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const envelope = await sims.ses.def.signEnvelope({
        Type: "SubscriptionConfirmation",
        MessageId: randomUUID(),
        Token: "tok123",
        TopicArn: "arn:aws:sns:eu-west-1:000000000000:hub-ses-events",
        Message: "You have chosen to subscribe to the topic.",
        SubscribeURL: `http://127.0.0.1:${port}/?Action=ConfirmSubscription&Token=tok123`,
        Timestamp: new Date().toISOString(),
      });
      const res = await post("ses", JSON.stringify(envelope), { "content-type": "text/plain" });
      expect(res.status).toBe(200);
      expect(hits).toEqual(["/?Action=ConfirmSubscription&Token=tok123"]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
