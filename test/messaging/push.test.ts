// Web Push end to end: a "browser" key pair made here with node:crypto (as a
// browser would), the subscription stored by the hub (keys encrypted), the hub
// encrypting with web-push, and the push-service simulator decrypting the
// aes128gcm body with the browser's private key and checking the VAPID JWT.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import webPush from "web-push";
import { messages, pushSubscriptions } from "../../db/schema";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createPushServiceSimulator, decryptAes128gcm } from "../../simulators/push-service/index";
import { savePushSubscription } from "../../app/messaging/push/subscriptions.server";
import { createWebPushProvider, pushTopic, webPushProviderFactory } from "../../app/messaging/push/web-push.server";
import { loadVapidKeys } from "../../app/messaging/push/vapid.server";
import type { AttemptContext, OutboundMessage, PushContent } from "../../app/messaging/types";
import { makeSupplier, makeUser, startTestHub, unique } from "../helpers/hub";
import { sendMessage } from "../../app/messaging/send.server";
import { renderSummary } from "../../app/messaging/templates/render.server";
import { waitFor } from "./helpers";
import { FormClient } from "../helpers/form-client";
import { getPreferences } from "../../app/messaging/preferences.server";

const sim = createPushServiceSimulator();
let running: RunningSimulator;
let hub: Awaited<ReturnType<typeof startTestHub>>;

beforeAll(async () => {
  running = await startSimulator(sim);
  // Role "all": the end-to-end test needs the worker that runs deliver_message.
  hub = await startTestHub({ role: "all", config: { workerConcurrency: 2 } });
});
afterAll(async () => {
  await hub?.stop();
  await running?.close();
});

/** What a browser does on pushManager.subscribe(): a P-256 key pair and a 16-byte auth secret. */
function browserKeys() {
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    publicKey: ecdh.getPublicKey().toString("base64url"),
    privateKey: ecdh.getPrivateKey().toString("base64url"),
    auth: crypto.randomBytes(16).toString("base64url"),
  };
}

async function subscribedVendor() {
  const supplier = await makeSupplier(hub.ctx.db);
  const { user } = await makeUser(hub.ctx.db, "vendor", supplier.id);
  const keys = browserKeys();
  const vapid = loadVapidKeys(hub.ctx.config);
  const { id, endpoint } = sim.push.subscribe({ ...keys, applicationServerKey: vapid.publicKey });
  await savePushSubscription(
    hub.ctx.db,
    hub.ctx.vault,
    user.id,
    { endpoint, keys: { p256dh: keys.publicKey, auth: keys.auth } },
    "test-browser",
  );
  return { user, keys, simId: id, endpoint };
}

const attempt = (requestKey: string = crypto.randomUUID()): AttemptContext => ({
  attemptId: crypto.randomUUID(),
  attemptNo: 1,
  requestKey,
  signal: AbortSignal.timeout(5000),
});

function outbound(userId: string, payload: PushContent["payload"], critical = false): OutboundMessage<PushContent> {
  const id = crypto.randomUUID();
  return {
    id,
    channel: "push",
    recipient: userId,
    template: "alert-raised",
    idempotencyKey: id,
    priority: 0,
    critical,
    content: { channel: "push", userId, payload },
  };
}

describe("web push to the push-service simulator", () => {
  it("end to end: sendMessage queues it, the worker sends it, the simulator decrypts exactly what the template rendered", async () => {
    const { user, simId } = await subscribedVendor();
    const data = { title: "Florist running late", severity: "critical", detail: "ETA 14:10" };
    const { messages: rows } = await sendMessage(hub.ctx.db, {
      recipients: [user.id],
      channel: "push",
      template: "alert_raised",
      data,
      critical: true,
      idempotencyKey: unique("push-e2e"),
    });
    const sent = await waitFor(async () => {
      const [row] = await hub.ctx.db.select().from(messages).where(eq(messages.id, rows[0]!.id));
      return row?.status === "sent" ? row : null;
    });
    expect(sent.provider).toBe("web-push");
    const got = sim.push.received().filter((r) => r.subscriptionId === simId);
    expect(got).toHaveLength(1);
    const summary = renderSummary("alert_raised", data);
    expect(JSON.parse(got[0]!.payload)).toEqual({ title: summary.title, body: summary.body, tag: "alert_raised" });
  });

  it("the simulator decrypts exactly the payload the hub sent, with TTL, urgency and topic", async () => {
    const { user, simId } = await subscribedVendor();
    const provider = webPushProviderFactory({ ctx: hub.ctx })!;
    const payload = { title: "Guest count changed", body: "120 → 150 for Sam & Alex 💐", url: "/vendor", tag: "core-fields" };
    const key = crypto.randomUUID();
    const result = await provider.send(outbound(user.id, payload, true), attempt(key));
    expect(result, JSON.stringify(result)).toMatchObject({ outcome: "accepted", detail: { browsers: 1 } });
    const got = sim.push.received().filter((r) => r.subscriptionId === simId);
    expect(got).toHaveLength(1);
    expect(got[0]!.payload).toBe(JSON.stringify(payload));
    expect(JSON.parse(got[0]!.payload)).toEqual(payload);
    expect(got[0]).toMatchObject({
      urgency: "high",
      topic: pushTopic(key),
      ttl: 86400,
      vapidSubject: expect.stringMatching(/^mailto:/),
    });
    const [row] = await hub.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id));
    expect(row!.lastUsedAt).not.toBeNull();
  });

  it("keeps the subscription keys encrypted at rest", async () => {
    const { user, keys } = await subscribedVendor();
    const [row] = await hub.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id));
    expect(row!.p256dhEnc).not.toContain(keys.publicKey);
    expect(row!.authEnc).not.toContain(keys.auth);
    expect(hub.ctx.vault.decrypt(row!.p256dhEnc)).toBe(keys.publicKey);
  });

  it("410 Gone removes the subscription, and a user without browsers fails as the message's problem", async () => {
    const { user, simId } = await subscribedVendor();
    sim.push.expire(simId);
    const provider = webPushProviderFactory({ ctx: hub.ctx })!;
    const result = await provider.send(outbound(user.id, { title: "t", body: "b" }), attempt());
    expect(result).toMatchObject({ outcome: "failed", scope: "message" });
    expect(sim.push.rejected().filter((r) => r.subscriptionId === simId)).toEqual([
      { subscriptionId: simId, status: 410, reason: expect.any(String) },
    ]);
    expect(await hub.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id))).toEqual([]);
    expect(await provider.send(outbound(user.id, { title: "t", body: "b" }), attempt())).toMatchObject({
      outcome: "failed",
      scope: "message",
      error: "The recipient has no browser subscribed to notifications.",
    });
  });

  it("VAPID is checked: another key pair than the subscription's is refused 403, a forged JWT 401", async () => {
    const { user, simId } = await subscribedVendor();
    const other = webPush.generateVAPIDKeys();
    const wrong = createWebPushProvider({
      db: hub.ctx.db,
      vault: hub.ctx.vault,
      vapid: { ...other, subject: "mailto:x@example.com" },
    });
    expect(await wrong.send(outbound(user.id, { title: "t", body: "b" }), attempt())).toMatchObject({
      outcome: "failed",
      scope: "provider",
      httpStatus: 403,
    });

    // A JWT signed by one key but presented with another k.
    const vapid = loadVapidKeys(hub.ctx.config);
    const endpoint = `${running.url}/push/${simId}`;
    const details = webPush.generateRequestDetails(
      { endpoint, keys: { p256dh: browserKeys().publicKey, auth: crypto.randomBytes(16).toString("base64url") } },
      "x",
      {
        vapidDetails: { subject: "mailto:a@example.com", publicKey: other.publicKey, privateKey: other.privateKey },
        TTL: 60,
      },
    );
    const forged = String(details.headers.Authorization).replace(/k=[A-Za-z0-9_-]+/, `k=${vapid.publicKey}`);
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { ...details.headers, Authorization: forged } as Record<string, string>,
      body: new Uint8Array(details.body!),
    });
    expect(res.status).toBe(401);
    // Correctly signed, but no TTL header: refused per RFC 8030.
    const signed = webPush.generateRequestDetails(
      { endpoint, keys: { p256dh: browserKeys().publicKey, auth: crypto.randomBytes(16).toString("base64url") } },
      "x",
      {
        vapidDetails: vapid,
        TTL: 60,
      },
    );
    const noTtl = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: String(signed.headers.Authorization), "Content-Encoding": "aes128gcm" },
      body: new Uint8Array(signed.body!),
    });
    expect(noTtl.status).toBe(400);
    expect(sim.push.received().filter((r) => r.subscriptionId === simId)).toEqual([]);
  });

  it("the simulator's decryption matches RFC 8291's worked example", () => {
    // RFC 8291 Appendix A.
    const body = Buffer.from(
      "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
      "base64url",
    );
    const plain = decryptAes128gcm(body, {
      publicKey: Buffer.from(
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "base64url",
      ),
      privateKey: Buffer.from("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94", "base64url"),
      auth: Buffer.from("BTBZMqHH6r4Tts7J_aSIgg", "base64url"),
    });
    expect(plain.toString("utf8")).toBe("When I grow up, I want to be a watermelon");
  });
});

describe("the vendor Notifications page", () => {
  it("stores a browser's subscription (CSRF required), removes it, and validates preferences with clear errors", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const { user, email, password } = await makeUser(hub.ctx.db, "vendor", supplier.id);
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const page = await client.get("/vendor/notifications");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Notify me in this browser");
    const keys = browserKeys();
    const { endpoint } = sim.push.subscribe(keys);
    const sub = { intent: "subscribe", endpoint, p256dh: keys.publicKey, auth: keys.auth };
    expect((await client.post("/vendor/notifications", sub, { withCsrf: false })).status).toBe(403);
    expect((await client.post("/vendor/notifications", sub)).status).toBe(200);
    const rows = await hub.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id));
    expect(rows.map((r) => r.endpoint)).toEqual([endpoint]);
    expect((await client.post("/vendor/notifications", { ...sub, auth: "short" })).status).toBe(400);

    const bad = await client.post("/vendor/notifications", {
      intent: "preferences",
      channels: "email",
      quietStart: "22:00",
      quietEnd: "",
      timeZone: "Mars/Base",
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("Give both a start and an end for quiet hours, or neither");
    expect(bad.text).toContain("Time zone must be an IANA zone such as Europe/London");
    const good = await client.post("/vendor/notifications", {
      intent: "preferences",
      channels: "push",
      quietStart: "22:00",
      quietEnd: "07:00",
      timeZone: "Europe/London",
    });
    expect(good.status).toBe(200);
    expect(await getPreferences(hub.ctx.db, user.id)).toEqual({
      channels: ["push"],
      mutedKinds: [],
      quietStart: "22:00",
      quietEnd: "07:00",
      timeZone: "Europe/London",
    });

    expect((await client.post("/vendor/notifications", { intent: "unsubscribe", endpoint })).status).toBe(200);
    expect(await hub.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, user.id))).toEqual([]);
  });
});
