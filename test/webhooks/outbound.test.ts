// Outbound webhooks against a real PostgreSQL and real graphile-worker: fan-out
// in the event's transaction, Standard Webhooks signatures verified with the
// `standardwebhooks` library, rotation overlap, a compressed Svix schedule
// (retry until attempt 6, disable on a failing streak, 410), per-couple order
// while another couple flows past a failing one, the SSRF guard, no redirects,
// replay. Receivers listen on 127.0.0.1 (the sandbox's allow-list).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { auditLog, messages, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { updateCoreFields, updateVendorFields } from "../../app/core-fields/write.server";
import { systemPrincipal } from "../../app/core-fields/principal";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { webhooksOutConfig } from "../../app/webhooks/outbound/config";
import { createEndpoint, rotateSecret, type EndpointInput } from "../../app/webhooks/outbound/endpoints.server";
import { replayDeliveries } from "../../app/webhooks/outbound/deliveries.server";
import { checkEndpointUrl, compilePolicy, createGuardedAgent, type Resolver } from "../../app/webhooks/outbound/ssrf";
import { postWebhook } from "../../app/webhooks/outbound/http.server";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createWebhookReceiverSimulator, type WebhookReceiverDefinition } from "../../simulators/webhook-receiver/index";
import { makeCouple, makeSupplier, makeUser, startTestHub, testActor } from "../helpers/hub";
import { FormClient } from "../helpers/form-client";
import { waitFor } from "../helpers/processes";
import { apiClient } from "../helpers/api";

// 1e-4: 5 s -> 0.5 ms, 5 min -> 30 ms, 30 min -> 180 ms, 2 h -> 720 ms, 5 h -> 1.8 s, 10 h -> 3.6 s; attempt 6
// comes ~2.7 s after the first. Disabling after a 10 h streak (3.6 s) leaves the 5-failures case alone.
const webhooksOut = { ...webhooksOutConfig("sandbox", { timeScale: 1e-4, disableAfterHours: 10 }), jitter: 0 };
const DISABLE_AFTER_MS = webhooksOut.disableAfterMs; // 3.6 s

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: WebhookReceiverDefinition;
let sim: RunningSimulator;
const staff = systemPrincipal("test", "staff");

beforeAll(async () => {
  hub = await startTestHub({ role: "all", config: { webhooksOut, workerConcurrency: 6 } });
  def = createWebhookReceiverSimulator();
  sim = await startSimulator(def);
});
afterAll(async () => {
  await sim?.close();
  await hub?.stop();
});

async function world(paths: string, input: Partial<EndpointInput> = {}, couples = 1) {
  const db = hub.ctx.db;
  const supplier = await makeSupplier(db);
  const coupleIds: string[] = [];
  for (let i = 0; i < couples; i++) coupleIds.push(await makeCouple(db, [supplier.id]));
  const { endpoint, secret } = await createEndpoint(
    hub.ctx,
    { type: "supplier", supplierId: supplier.id },
    { name: paths, url: `${sim.url}/${paths}`, ...input },
    testActor,
  );
  return { supplierId: supplier.id, coupleIds, endpoint, secret, path: `/${paths}` };
}

let guest = 100;
const bump = (coupleId: string) =>
  updateCoreFields(hub.ctx.db, staff, { coupleId, patch: { guestCount: ++guest }, expectedVersion: "current" });

const delivery = async (endpointId: string, seq?: number) =>
  (
    await hub.ctx.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, endpointId), seq === undefined ? undefined : eq(webhookDeliveries.seq, seq)))
  )[0];
const endpointRow = async (id: string) =>
  (await hub.ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0]!;

describe("fan-out and signatures", () => {
  it("writes one delivery per matching endpoint in the event's transaction; every delivery verifies with standardwebhooks", async () => {
    const w = await world("sig");
    def.receiver.setSecrets([w.secret], w.path);
    const { event } = await bump(w.coupleIds[0]!);
    // Same transaction: the delivery row exists as soon as the write returned.
    const d = await delivery(w.endpoint.id, event!.seq);
    expect(d).toMatchObject({ status: expect.any(String), coupleId: w.coupleIds[0], eventId: event!.id });
    const got = await waitFor(async () => def.receiver.accepted({ path: w.path })[0], "the delivery");
    expect(got.webhookId).toBe(d!.id);
    expect(got.verifiedWith).toEqual([0]);
    // As a receiver would: the library verifies the raw body with the three headers.
    const payload = new Webhook(w.secret).verify(got.body, {
      "webhook-id": got.webhookId!,
      "webhook-timestamp": got.timestamp!,
      "webhook-signature": got.signature!,
    }) as { type: string; data: { coupleId: string; seq: number } };
    expect(payload).toMatchObject({ type: "core_fields.updated", data: { coupleId: w.coupleIds[0], seq: event!.seq } });
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(got.body, {
        "webhook-id": got.webhookId!,
        "webhook-timestamp": got.timestamp!,
        "webhook-signature": got.signature!,
      }),
    ).toThrow();
  });

  it("during rotation both the old and the new secret verify; after the overlap only the new one signs", async () => {
    const w = await world("rotate");
    const rotated = await rotateSecret(hub.ctx, { type: "staff" }, w.endpoint.id, { overlapHours: 1 }, testActor);
    expect(rotated.secret).toMatch(/^whsec_/);
    def.receiver.setSecrets([w.secret, rotated.secret], w.path);
    await bump(w.coupleIds[0]!);
    const got = await waitFor(async () => def.receiver.accepted({ path: w.path })[0], "the rotated delivery");
    expect(got.signature!.split(" ")).toHaveLength(2);
    expect(got.verifiedWith).toEqual([0, 1]);
    const headers = { "webhook-id": got.webhookId!, "webhook-timestamp": got.timestamp!, "webhook-signature": got.signature! };
    expect(new Webhook(w.secret).verify(got.body, headers)).toBeTruthy();
    expect(new Webhook(rotated.secret).verify(got.body, headers)).toBeTruthy();

    await hub.ctx.db
      .update(webhookEndpoints)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(webhookEndpoints.id, w.endpoint.id));
    await bump(w.coupleIds[0]!);
    const second = await waitFor(async () => def.receiver.accepted({ path: w.path })[1], "the post-overlap delivery");
    expect(second.verifiedWith).toEqual([1]);
  });

  it("honours the type filter and what the supplier may see", async () => {
    const w = await world("filter", { eventTypes: ["vendor_fields.updated"] });
    const other = await makeSupplier(hub.ctx.db);
    await hub.ctx.db.execute(sql`insert into supplier_couples (supplier_id, couple_id) values (${other.id}, ${w.coupleIds[0]})`);
    await bump(w.coupleIds[0]!); // core_fields.updated: filtered out
    // Another vendor's own fields: not visible to this supplier's endpoint.
    await updateVendorFields(hub.ctx.db, staff, {
      supplierId: other.id,
      coupleId: w.coupleIds[0]!,
      patch: { availability: "confirmed" },
      expectedVersion: 0,
    });
    const own = await updateVendorFields(hub.ctx.db, staff, {
      supplierId: w.supplierId,
      coupleId: w.coupleIds[0]!,
      patch: { availability: "tentative" },
      expectedVersion: 0,
    });
    const rows = await hub.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, w.endpoint.id));
    expect(rows.map((r) => r.eventId)).toEqual([own.event!.id]);
  });
});

describe("retries on a compressed Svix schedule", () => {
  it("a receiver failing 5 times then succeeding receives the event once, on attempt 6", async () => {
    const w = await world("five");
    def.receiver.setSecrets([w.secret], w.path);
    def.receiver.fail({ times: 5, status: 500, path: w.path });
    await bump(w.coupleIds[0]!);
    const d = await waitFor(
      async () => {
        const row = await delivery(w.endpoint.id);
        return row?.status === "delivered" ? row : null;
      },
      "delivery on attempt 6",
      30_000,
    );
    def.receiver.clearFailures();
    expect(d.attempts).toBe(6);
    expect(def.receiver.received({ path: w.path })).toHaveLength(6);
    expect(def.receiver.accepted({ path: w.path })).toHaveLength(1);
    expect(new Set(def.receiver.received({ path: w.path }).map((r) => r.webhookId))).toEqual(new Set([d.id]));
    const attempts = await hub.ctx.db
      .select()
      .from(webhookAttempts)
      .where(eq(webhookAttempts.deliveryId, d.id))
      .orderBy(webhookAttempts.attempt);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, "failed", 500],
      [2, "failed", 500],
      [3, "failed", 500],
      [4, "failed", 500],
      [5, "failed", 500],
      [6, "succeeded", 204],
    ]);
    expect(attempts[0]!.responseExcerpt).toContain("Injected failure");
    // The gaps follow the schedule (5 min -> 30 ms, 30 min -> 180 ms, 2 h -> 720 ms, 5 h -> 1.8 s at 1e-4).
    const gap = (i: number) => attempts[i]!.startedAt.getTime() - attempts[i - 1]!.startedAt.getTime();
    expect(gap(4)).toBeGreaterThanOrEqual(700);
    expect(gap(5)).toBeGreaterThanOrEqual(1_750);
    expect((await endpointRow(w.endpoint.id)).failingSince).toBeNull();
  });

  it("an always-failing endpoint is disabled on schedule and its owner is notified", async () => {
    const w = await world("always");
    const vendor = await makeUser(hub.ctx.db, "vendor", w.supplierId);
    def.receiver.fail({ status: 503, path: w.path });
    await bump(w.coupleIds[0]!);
    const ep = await waitFor(
      async () => {
        const row = await endpointRow(w.endpoint.id);
        return row.status === "disabled" ? row : null;
      },
      "the endpoint disabled",
      30_000,
    );
    def.receiver.clearFailures();
    expect(ep.disabledReason).toMatch(/Every attempt failed since/);
    const attempts = await hub.ctx.db
      .select()
      .from(webhookAttempts)
      .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
      .where(eq(webhookDeliveries.endpointId, w.endpoint.id))
      .orderBy(webhookAttempts.attempt);
    const t = attempts.map((a) => a.webhook_attempts.startedAt.getTime() - attempts[0]!.webhook_attempts.startedAt.getTime());
    // Disabled by the first attempt at or past the period, not before.
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(DISABLE_AFTER_MS);
    expect(t[t.length - 2]).toBeLessThan(DISABLE_AFTER_MS);
    const notes = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, w.endpoint.id), eq(auditLog.action, "webhook_endpoint.owner_notified")));
    expect(notes).toHaveLength(1);
    const note = notes[0]!.after as { userIds: string[]; messageIds: string[] };
    expect(note.userIds).toEqual([vendor.user.id]);
    // The email went through messaging, to the vendor, queued with the disabling.
    const mails = await hub.ctx.db.select().from(messages).where(inArray(messages.id, note.messageIds));
    expect(mails.map((m) => [m.recipient, m.template])).toEqual([[vendor.email.toLowerCase(), "alert_raised"]]);
    // A disabled endpoint gets no new deliveries.
    await bump(w.coupleIds[0]!);
    expect(await hub.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, w.endpoint.id))).toHaveLength(
      1,
    );
  });

  it("a 410 disables the endpoint at once", async () => {
    const w = await world("gone");
    def.receiver.fail({ status: 410, times: 1, path: w.path });
    await bump(w.coupleIds[0]!);
    const ep = await waitFor(async () => {
      const row = await endpointRow(w.endpoint.id);
      return row.status === "disabled" ? row : null;
    }, "410 disable");
    expect(ep.disabledReason).toMatch(/410/);
    expect((await delivery(w.endpoint.id))!.attempts).toBe(1);
  });
});

describe("per-couple order", () => {
  it("holds a failing couple's later deliveries while another couple's flow past", async () => {
    const w = await world("order", {}, 2);
    const [a, b] = w.coupleIds as [string, string];
    def.receiver.fail({ coupleId: a, times: 4, status: 500, path: w.path });
    for (let i = 0; i < 3; i++) {
      await bump(a);
      await bump(b);
    }
    await waitFor(async () => def.receiver.accepted({ path: w.path, coupleId: b }).length === 3, "couple B's deliveries");
    // B is through while A's first delivery is still retrying and its later ones wait.
    expect(def.receiver.accepted({ path: w.path, coupleId: a })).toHaveLength(0);
    expect(new Set(def.receiver.received({ path: w.path, coupleId: a }).map((r) => r.seq)).size).toBe(1);
    await waitFor(async () => def.receiver.accepted({ path: w.path, coupleId: a }).length === 3, "couple A's deliveries", 30_000);
    const seqsA = def.receiver.received({ path: w.path, coupleId: a }).map((r) => r.seq!);
    // Every request for A, failures included, in seq order: the head retried until it went through, then the rest.
    expect(seqsA).toEqual([...seqsA].sort((x, y) => x - y));
    expect(def.receiver.accepted({ path: w.path, coupleId: b }).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(def.receiver.accepted({ path: w.path, coupleId: a }).map((r) => r.seq)).toEqual([1, 2, 3]);
  });
});

describe("SSRF guard (production)", () => {
  const production = compilePolicy({ allowHttp: false, allow: [] });
  const fakeDns: Resolver = async (host) => {
    if (host === "internal.example.test") return [{ address: "10.20.30.40", family: 4 }];
    if (host === "rebind.example.test") return [{ address: "127.0.0.1", family: 4 }];
    if (host === "public.example.test") return [{ address: "93.184.216.34", family: 4 }];
    throw new Error("ENOTFOUND");
  };

  it.each([
    ["https://127.0.0.1/hook", /loopback/],
    ["https://10.1.2.3/hook", /private/],
    ["https://169.254.169.254/latest/meta-data/", /link-local/],
    ["https://[::1]/hook", /loopback/],
    ["https://[::ffff:10.0.0.1]/hook", /private/],
    ["https://100.64.0.1/hook", /carrier-grade/],
    ["https://0.0.0.0/hook", /unspecified/],
    ["https://internal.example.test/hook", /10\.20\.30\.40 is private/],
    ["http://public.example.test/hook", /https/],
  ])("refuses %s at registration", async (url, reason) => {
    await expect(checkEndpointUrl(url, production, fakeDns)).rejects.toThrow(reason);
  });

  it("accepts a public https URL", async () => {
    await expect(checkEndpointUrl("https://public.example.test/hook", production, fakeDns)).resolves.toBeInstanceOf(URL);
  });

  it("refuses at connect time, so DNS rebinding and IP literals fail even after registration", async () => {
    const before = def.receiver.received().length;
    const cfg = { ...webhooksOut, allowHttp: true };
    const agent = createGuardedAgent(compilePolicy({ allowHttp: true, allow: [] }), { ...cfg, resolve: fakeDns });
    const port = new URL(sim.url).port;
    // Registered while it resolved to a public address; now it answers 127.0.0.1.
    const rebound = await postWebhook(agent, cfg, `http://rebind.example.test:${port}/ssrf`, {}, "{}");
    expect(rebound).toMatchObject({ outcome: "refused", httpStatus: null });
    expect(rebound.error).toMatch(/loopback/);
    const literal = await postWebhook(agent, cfg, `http://127.0.0.1:${port}/ssrf`, {}, "{}");
    expect(literal).toMatchObject({ outcome: "refused" });
    const metadata = await postWebhook(agent, cfg, "http://169.254.169.254/latest/meta-data/", {}, "{}");
    expect(metadata).toMatchObject({ outcome: "refused" });
    expect(def.receiver.received().length).toBe(before);
    await agent.close();
  });

  it("the API refuses a private URL with 422 in production mode", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    await expect(
      createEndpoint(
        { ...hub.ctx, config: { webhooksOut: webhooksOutConfig("production", {}) } },
        { type: "supplier", supplierId: supplier.id },
        { name: "x", url: "https://10.0.0.8/hook" },
        testActor,
      ),
    ).rejects.toMatchObject({ status: 422 });
  });
});

describe("HTTP behaviour", () => {
  let target: http.Server;
  let hits: string[] = [];
  beforeAll(async () => {
    target = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      if (req.url === "/redirect") {
        res.writeHead(307, { location: "/landing" }).end();
        return;
      }
      res.writeHead(200).end("ok");
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  });
  afterAll(() => new Promise<void>((r) => target.close(() => r())));

  it("follows no redirect: a 307 is a failed attempt and the Location is never called", async () => {
    hits = [];
    const supplier = await makeSupplier(hub.ctx.db);
    const coupleId = await makeCouple(hub.ctx.db, [supplier.id]);
    const { endpoint } = await createEndpoint(
      hub.ctx,
      { type: "supplier", supplierId: supplier.id },
      { name: "redirect", url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/redirect` },
      testActor,
    );
    await bump(coupleId);
    const attempt = await waitFor(async () => {
      const d = await delivery(endpoint.id);
      if (!d) return null;
      return (await hub.ctx.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d.id)))[0];
    }, "the first attempt");
    expect(attempt).toMatchObject({ outcome: "failed", httpStatus: 307 });
    expect(attempt.error).toMatch(/Redirect not followed/);
    expect(hits.every((h) => h === "/redirect")).toBe(true);
    await hub.ctx.db.update(webhookEndpoints).set({ status: "disabled" }).where(eq(webhookEndpoints.id, endpoint.id));
  });

  it("a hanging receiver times out and the attempt says so", async () => {
    def.receiver.fail({ hang: true, times: 1, path: "/hang" });
    const cfg = { ...webhooksOut, responseTimeoutMs: 300 };
    const agent = createGuardedAgent(compilePolicy({ allowHttp: true, allow: ["127.0.0.1"] }), cfg);
    const r = await postWebhook(agent, cfg, `${sim.url}/hang`, {}, "{}");
    expect(r).toMatchObject({ outcome: "timeout", httpStatus: null });
    await agent.close();
  });
});

describe("replay and the API", () => {
  it("replays one delivery (same webhook-id) and everything since a time, audited", async () => {
    const w = await world("replay");
    await bump(w.coupleIds[0]!);
    await bump(w.coupleIds[0]!);
    await waitFor(async () => def.receiver.accepted({ path: w.path }).length === 2, "two deliveries");
    const first = (await delivery(w.endpoint.id, 1))!;
    const one = await replayDeliveries(hub.ctx.db, { type: "staff" }, w.endpoint.id, { deliveryId: first.id }, testActor);
    expect(one.replayed).toBe(1);
    await waitFor(async () => def.receiver.accepted({ path: w.path }).length === 3, "the replay");
    expect(def.receiver.accepted({ path: w.path })[2]!.webhookId).toBe(first.id);
    const all = await replayDeliveries(
      hub.ctx.db,
      { type: "staff" },
      w.endpoint.id,
      { since: new Date(Date.now() - 60_000).toISOString() },
      testActor,
    );
    expect(all.replayed).toBe(2);
    await waitFor(async () => def.receiver.accepted({ path: w.path }).length === 5, "the replay since");
    expect(
      def.receiver
        .accepted({ path: w.path })
        .slice(3)
        .map((r) => r.seq),
    ).toEqual([1, 2]);
    const audits = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, w.endpoint.id), eq(auditLog.action, "webhook_delivery.replayed")));
    expect(audits).toHaveLength(2);
  });

  it("a supplier token manages its own endpoints; the secret is shown once", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const otherSupplier = await makeSupplier(hub.ctx.db);
    const { token } = await createApiToken(
      hub.ctx.db,
      { name: "hooks", kind: "supplier", supplierId: supplier.id, scopes: ["webhooks:manage"] },
      testActor,
    );
    const api = apiClient(hub.url, token);
    const created = await api<{ endpoint: { id: string }; secret: string }>("POST", "/webhook-endpoints", {
      name: "CRM",
      url: `${sim.url}/api-made`,
      eventTypes: ["core_fields.updated"],
      supplierId: otherSupplier.id,
    });
    expect(created.status).toBe(404);
    const ok = await api<{ endpoint: { id: string; supplierId: string }; secret: string }>("POST", "/webhook-endpoints", {
      name: "CRM",
      url: `${sim.url}/api-made`,
      eventTypes: ["core_fields.updated"],
    });
    expect(ok.status).toBe(201);
    expect(ok.body.secret).toMatch(/^whsec_/);
    expect(ok.body.endpoint.supplierId).toBe(supplier.id);
    const read = await api("GET", `/webhook-endpoints/${ok.body.endpoint.id}`);
    expect(JSON.stringify(read.body)).not.toContain("whsec_");
    const list = await api<{ items: unknown[] }>("GET", "/webhook-endpoints");
    expect(list.body.items).toHaveLength(1);
    const bad = await api("POST", "/webhook-endpoints", { name: "x", url: "ftp://example.com/" });
    expect(bad.status).toBe(422);
    const rotated = await api<{ secret: string }>("POST", `/webhook-endpoints/${ok.body.endpoint.id}/rotate-secret`, {
      overlapHours: 2,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(ok.body.secret);
    const stored = await endpointRow(ok.body.endpoint.id);
    expect(stored.secretEnc).not.toContain(rotated.body.secret.slice(6));
    expect(hub.ctx.vault.decrypt(stored.previousSecretEnc!)).toBe(ok.body.secret);
  });
});

describe("the endpoint pages", () => {
  it("a vendor opens its own endpoint and gets 404 for another supplier's; staff open any", async () => {
    const mine = await world("page-mine");
    const theirs = await world("page-theirs");
    const vendor = await makeUser(hub.ctx.db, "vendor", mine.supplierId);
    const client = new FormClient(hub.url);
    await client.signIn(vendor.email, vendor.password);
    const own = await client.get(`/vendor/webhooks/${mine.endpoint.id}`);
    expect(own.status).toBe(200);
    expect(own.text).toContain("page-mine");
    expect((await client.get(`/vendor/webhooks/${theirs.endpoint.id}`)).status).toBe(404);
    expect((await client.get(`/vendor/webhooks/not-an-id`)).status).toBe(404);

    const admin = await makeUser(hub.ctx.db, "admin");
    const staffClient = new FormClient(hub.url);
    await staffClient.signIn(admin.email, admin.password);
    const page = await staffClient.get(`/console/webhooks/out/${theirs.endpoint.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("page-theirs");
  });
});
