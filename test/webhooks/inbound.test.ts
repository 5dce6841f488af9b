// Inbound webhooks over a real hub (in-process, web role: no worker runs jobs,
// the test runs the processing step itself) and a real PostgreSQL: every
// refusal gets its status and leaves nothing processed; a verified delivery is
// stored with its job and applied exactly once; each scheme verifies its
// positive case and refuses its negative one; rotation overlap; dead letters
// and replay after the mapping is fixed.
import crypto from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import twilio from "twilio";
import { coreFields, events, importedRecords, webhookDeliveries, webhookRefusals } from "../../db/schema";
import { createMapping, publishDraft, saveDraft } from "../../app/mapping/store.server";
import { createInboundEndpoint, INBOUND_PATH, rotateInboundSecret } from "../../app/webhooks/inbound/endpoints.server";
import {
  processInboundDelivery,
  replayDeadLetters,
  replayDelivery,
  setInboundRetryPolicy,
} from "../../app/webhooks/inbound/process.server";
import { processJobKey } from "../../app/webhooks/inbound/receive.server";
import { signRequest, verifyRequest, type SchemeConfig, type SignedRequest } from "../../app/webhooks/inbound/schemes";
import { sampleRequest } from "../../app/webhooks/inbound/console.server";
import { makeCouple, makeSupplier, startTestHub, testActor, unique } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let coreMappingId: string;
let coreMappingSlug: string;
let clientMappingId: string;

async function publishedMapping(target: "core-fields" | "wedsync-client", expression: string) {
  const slug = unique("webhook-map").toLowerCase();
  const m = await createMapping(
    hub.ctx.db,
    { slug, name: slug, source: { connector: "webhook", object: "payload" }, target },
    testActor,
  );
  await saveDraft(hub.ctx.db, slug, { expression, cases: [] }, testActor);
  await publishDraft(hub.ctx.db, slug, testActor);
  return { id: m.id, slug };
}

beforeAll(async () => {
  hub = await startTestHub();
  const core = await publishedMapping("core-fields", `{ "guestCount": data.guests, "venueName": data.venue }`);
  coreMappingId = core.id;
  coreMappingSlug = core.slug;
  clientMappingId = (
    await publishedMapping(
      "wedsync-client",
      `{ "externalId": client.id, "source": "studio-crm", "partner1Name": client.name, "guestCount": client.guests }`,
    )
  ).id;
});
afterAll(async () => {
  setInboundRetryPolicy(null);
  await hub?.stop();
});
afterEach(() => setInboundRetryPolicy(null));

async function makeEndpoint(
  scheme: SchemeConfig,
  opts: { rateLimitPerMinute?: number; maxBodyBytes?: number; secret?: string } = {},
) {
  const { endpoint, secret } = await createInboundEndpoint(
    hub.ctx.db,
    hub.ctx.vault,
    {
      name: unique("source"),
      scheme,
      mappingId: coreMappingId,
      applyAs: "core-fields",
      coupleIdExpression: "data.coupleId",
      rateLimitPerMinute: opts.rateLimitPerMinute ?? 600,
      maxBodyBytes: opts.maxBodyBytes ?? 262_144,
    },
    { secret: opts.secret, actor: testActor },
  );
  return { endpoint, secret, url: `${hub.ctx.publicUrl()}${INBOUND_PATH(endpoint.id)}` };
}

const payloadFor = (coupleId: string, guests: number, venue = "Old Barn") => ({
  type: "wedding.updated",
  data: { coupleId, guests, venue },
});

async function send(req: SignedRequest, extra: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(req.url, {
    method: "POST",
    headers: { ...req.headers, ...extra.headers },
    body: extra.body ?? (req.body === "" ? undefined : req.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

const deliveriesOf = (endpointId: string) =>
  hub.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));
const refusalsOf = (endpointId: string) =>
  hub.ctx.db.select().from(webhookRefusals).where(eq(webhookRefusals.endpointRef, endpointId));
const jobsFor = async (endpointId: string) =>
  (
    await hub.ctx.db.execute<{ n: number }>(sql`
      select count(*)::int as n from graphile_worker._private_jobs j
      where j.key in (select 'webhook-in:' || id from webhook_deliveries where endpoint_id = ${endpointId})`)
  ).rows[0]!.n;
const coreOf = async (coupleId: string) =>
  (await hub.ctx.db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId)))[0]!;
const eventCount = async (coupleId: string) =>
  (await hub.ctx.db.select().from(events).where(eq(events.coupleId, coupleId))).length;

const stdSign = (url: string, secret: string, payload: unknown, opts: { id?: string; now?: Date } = {}) =>
  signRequest(
    { id: "standard-webhooks" },
    { url, secret, payload, now: opts.now ?? new Date(), id: opts.id ?? `msg_${crypto.randomUUID()}` },
  );

/** Each refusal: its status, a refusal row, and nothing stored, queued or changed. */
async function expectRefused(
  endpointId: string,
  coupleId: string,
  res: { status: number; json: Record<string, unknown> },
  status: number,
) {
  expect(res.status).toBe(status);
  expect((res.json.error as { message: string }).message.length).toBeGreaterThan(10);
  expect(await deliveriesOf(endpointId)).toHaveLength(0);
  expect(await jobsFor(endpointId)).toBe(0);
  expect((await coreOf(coupleId)).version).toBe(1);
  expect((await refusalsOf(endpointId)).some((r) => r.status === status)).toBe(true);
}

describe("a valid Standard Webhooks delivery", () => {
  it("is acknowledged only once stored with its job, then changes the couple's core fields once", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const req = stdSign(url, secret, payloadFor(coupleId, 142), { id: "msg_valid_1" });
    const res = await send(req);
    expect(res.status).toBe(202);
    const [stored] = await deliveriesOf(endpoint.id);
    expect(stored).toMatchObject({ externalId: "msg_valid_1", status: "received", eventType: "wedding.updated" });
    expect(stored!.verification).toMatchObject({ scheme: "standard-webhooks", ok: true, secret: "current" });
    expect(stored!.headers["webhook-signature"]).toBe(req.headers["webhook-signature"]);
    expect(await jobsFor(endpoint.id)).toBe(1);
    const before = await eventCount(coupleId);

    // The job twice (a duplicate run): applied once.
    expect(await processInboundDelivery(hub.ctx, stored!.id)).toBe("processed");
    expect(await processInboundDelivery(hub.ctx, stored!.id)).toBe("skipped");
    const core = await coreOf(coupleId);
    expect(core.version).toBe(2);
    expect(core.fields).toMatchObject({ guestCount: 142, venueName: "Old Barn" });
    expect(await eventCount(coupleId)).toBe(before + 1);
    const [done] = await deliveriesOf(endpoint.id);
    expect(done).toMatchObject({ status: "processed", attempts: 1, mappedOutput: { guestCount: 142, venueName: "Old Barn" } });
    expect(done!.result).toMatchObject({ applied: "core-fields", coupleId, version: 2 });

    // The same delivery id again: 200, not stored or processed again.
    const again = await send(stdSign(url, secret, payloadFor(coupleId, 999), { id: "msg_valid_1" }));
    expect(again.status).toBe(200);
    expect(again.json.status).toBe("duplicate");
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
    expect((await coreOf(coupleId)).version).toBe(2);
  });
});

describe("refusals: each its status, nothing processed", () => {
  it("forged signature (body changed after signing) → 401", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const req = stdSign(url, secret, payloadFor(coupleId, 10));
    const res = await send(req, { body: JSON.stringify(payloadFor(coupleId, 4000)) });
    await expectRefused(endpoint.id, coupleId, res, 401);
  });

  it("wrong secret → 401", async () => {
    const { endpoint, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const other = `whsec_${crypto.randomBytes(24).toString("base64")}`;
    await expectRefused(endpoint.id, coupleId, await send(stdSign(url, other, payloadFor(coupleId, 10))), 401);
  });

  it("stale timestamp → 401", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const res = await send(stdSign(url, secret, payloadFor(coupleId, 10), { now: new Date(Date.now() - 6 * 60_000) }));
    await expectRefused(endpoint.id, coupleId, res, 401);
    expect((res.json.error as { message: string }).message).toMatch(/timestamp/);
  });

  it("oversized body → 413 (declared length, and a streamed body cut at the cap)", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" }, { maxBodyBytes: 1024 });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const big = { ...payloadFor(coupleId, 10), padding: "x".repeat(4000) };
    await expectRefused(endpoint.id, coupleId, await send(stdSign(url, secret, big)), 413);

    // No Content-Length: the reader stops at the cap.
    const signed = stdSign(url, secret, big);
    const chunks = [Buffer.from(signed.body.slice(0, 2000)), Buffer.from(signed.body.slice(2000))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(url, { method: "POST", headers: signed.headers, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(0);
  });

  it("malformed JSON → 400", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const req = stdSign(url, secret, payloadFor(coupleId, 10));
    const broken = req.body.slice(0, -3);
    // Correctly signed, still refused: malformed JSON is never stored.
    const resigned = {
      ...req.headers,
      "webhook-signature": new Webhook(secret).sign(req.headers["webhook-id"]!, new Date(), broken),
    };
    const res = await send({ ...req, headers: resigned }, { body: broken });
    await expectRefused(endpoint.id, coupleId, res, 400);
  });

  it("wrong content type → 415", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const res = await send(stdSign(url, secret, payloadFor(coupleId, 10)), { headers: { "content-type": "text/plain" } });
    await expectRefused(endpoint.id, coupleId, res, 415);
  });

  it("unknown endpoint → 404 (a random id, a malformed id, a disabled endpoint)", async () => {
    const ghost = crypto.randomUUID();
    const res = await send(stdSign(`${hub.url}${INBOUND_PATH(ghost)}`, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", { a: 1 }));
    expect(res.status).toBe(404);
    expect((await refusalsOf(ghost))[0]).toMatchObject({ status: 404 });
    expect((await send(stdSign(`${hub.url}/webhooks/in/not-an-id`, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {}))).status).toBe(
      404,
    );
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    await hub.ctx.db.execute(sql`update webhook_endpoints set status = 'disabled' where id = ${endpoint.id}`);
    const coupleId = await makeCouple(hub.ctx.db, []);
    await expectRefused(endpoint.id, coupleId, await send(stdSign(url, secret, payloadFor(coupleId, 10))), 404);
  });

  it("rate limit → 429 with Retry-After", async () => {
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" }, { rateLimitPerMinute: 2 });
    const coupleId = await makeCouple(hub.ctx.db, []);
    expect((await send(stdSign(url, secret, payloadFor(coupleId, 11)))).status).toBe(202);
    expect((await send(stdSign(url, secret, payloadFor(coupleId, 12)))).status).toBe(202);
    const res = await send(stdSign(url, secret, payloadFor(coupleId, 13)));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(2);
    expect(await jobsFor(endpoint.id)).toBe(2);
    expect((await refusalsOf(endpoint.id)).map((r) => r.status)).toEqual([429]);
  });
});

describe("every scheme: a positive and a negative case over HTTP", () => {
  const cases: { name: string; scheme: SchemeConfig; secret?: string }[] = [
    {
      name: "HMAC-SHA256 hex with a prefix",
      scheme: { id: "hmac-sha256", header: "x-hub-signature-256", encoding: "hex", prefix: "sha256=", idHeader: "x-delivery" },
    },
    {
      name: "HMAC-SHA256 base64 with a signed timestamp",
      scheme: { id: "hmac-sha256", header: "x-signature", encoding: "base64", prefix: "", timestampHeader: "x-timestamp" },
    },
    { name: "Stripe-style", scheme: { id: "stripe", header: "stripe-signature" } },
    { name: "Twilio", scheme: { id: "twilio" } },
    { name: "Google channel token", scheme: { id: "google-channel" } },
    { name: "Microsoft Graph clientState", scheme: { id: "graph-client-state" } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { endpoint, secret, url } = await makeEndpoint(c.scheme);
      const coupleId = await makeCouple(hub.ctx.db, []);
      const good = signRequest(c.scheme, { url, secret, payload: payloadFor(coupleId, 77), now: new Date(), id: unique("d") });
      const ok = await send(good);
      expect(ok.status, JSON.stringify(ok.json)).toBe(202);
      const [stored] = await deliveriesOf(endpoint.id);
      expect(stored!.verification).toMatchObject({ scheme: c.scheme.id, ok: true });
      // Secrets that senders send in clear are never stored.
      expect(JSON.stringify(stored)).not.toContain(secret);

      const forged = signRequest(c.scheme, {
        url,
        secret: `${secret}x`,
        payload: payloadFor(coupleId, 78),
        now: new Date(),
        id: unique("d"),
      });
      const bad = await send(forged);
      expect(bad.status).toBe(401);
      expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
      expect(await jobsFor(endpoint.id)).toBe(1);
    });
  }

  it("Graph's validation handshake is echoed and stores nothing", async () => {
    const { endpoint, url } = await makeEndpoint({ id: "graph-client-state" });
    const res = await fetch(`${url}?validationToken=${encodeURIComponent("Validation: token 123")}`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Validation: token 123");
    expect(await deliveriesOf(endpoint.id)).toHaveLength(0);
  });

  it("Twilio JSON bodies verify through bodySHA256", async () => {
    const { secret, url } = await makeEndpoint({ id: "twilio" });
    const body = JSON.stringify({ data: { coupleId: crypto.randomUUID(), guests: 5 } });
    const signedUrl = `${url}?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
    const signature = twilio.getExpectedTwilioSignature(secret, signedUrl, {});
    const res = await fetch(signedUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-twilio-signature": signature },
      body,
    });
    expect(res.status).toBe(202);
  });
});

describe("pure verification", () => {
  const body = Buffer.from(JSON.stringify({ hello: "world" }));
  it("constant-time HMAC refuses a digest of the wrong length without throwing", () => {
    const v = verifyRequest(
      { id: "hmac-sha256", header: "x-signature", encoding: "hex", prefix: "" },
      { body, headers: { "x-signature": "abcd" }, url: "http://x", secrets: ["s3cret-s3cret-s3cret"], now: new Date() },
    );
    expect(v).toMatchObject({ ok: false });
  });
  it("Stripe-style refuses a stale t even with a correct v1", () => {
    const secret = "whsec_test_secret_value_1234";
    const t = Math.floor(Date.now() / 1000) - 3600;
    const v1 = crypto.createHmac("sha256", secret).update(`${t}.${body.toString()}`).digest("hex");
    const v = verifyRequest(
      { id: "stripe", header: "stripe-signature" },
      { body, headers: { "stripe-signature": `t=${t},v1=${v1}` }, url: "http://x", secrets: [secret], now: new Date() },
    );
    expect(v).toMatchObject({ ok: false });
    expect(!v.ok && v.reason).toMatch(/timestamp|away/);
  });
});

describe("secret rotation", () => {
  it("during the overlap both secrets verify; after it only the new one", async () => {
    const { endpoint, secret: oldSecret, url } = await makeEndpoint({ id: "standard-webhooks" });
    const coupleId = await makeCouple(hub.ctx.db, []);
    const { secret: newSecret } = await rotateInboundSecret(hub.ctx.db, hub.ctx.vault, endpoint.id, {
      overlapSeconds: 3600,
      actor: testActor,
    });
    expect(newSecret).not.toBe(oldSecret);
    expect((await send(stdSign(url, oldSecret, payloadFor(coupleId, 21)))).status).toBe(202);
    expect((await send(stdSign(url, newSecret, payloadFor(coupleId, 22)))).status).toBe(202);
    const secrets = (await deliveriesOf(endpoint.id)).map((d) => d.verification?.secret).sort();
    expect(secrets).toEqual(["current", "previous"]);

    // The overlap ends: the old secret is refused.
    await hub.ctx.db.execute(
      sql`update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${endpoint.id}`,
    );
    expect((await send(stdSign(url, oldSecret, payloadFor(coupleId, 23)))).status).toBe(401);
    expect((await send(stdSign(url, newSecret, payloadFor(coupleId, 24)))).status).toBe(202);
  });
});

describe("dead letters and replay", () => {
  it("fails on schedule, goes dead after the last attempt, and is applied once after the mapping is fixed and it is replayed", async () => {
    setInboundRetryPolicy({ maxAttempts: 3, delaysMs: [10] });
    const broken = await publishedMapping("core-fields", `{ "guestCount": "lots of guests" }`);
    const { endpoint, secret, url } = await makeEndpoint({ id: "standard-webhooks" });
    await hub.ctx.db.execute(sql`update webhook_endpoints set mapping_id = ${broken.id} where id = ${endpoint.id}`);
    const coupleId = await makeCouple(hub.ctx.db, []);
    expect((await send(stdSign(url, secret, payloadFor(coupleId, 64)))).status).toBe(202);
    const [d] = await deliveriesOf(endpoint.id);

    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("retrying");
    const [afterOne] = await deliveriesOf(endpoint.id);
    expect(afterOne).toMatchObject({ status: "failed", attempts: 1 });
    expect(afterOne!.lastError).toMatch(/guestCount/);
    // The next attempt is queued at its time.
    const job = await hub.ctx.db.execute<{ run_at: Date }>(
      sql`select run_at from graphile_worker._private_jobs where key = ${processJobKey(d!.id)}`,
    );
    expect(job.rows).toHaveLength(1);
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("retrying");
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("dead");
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("skipped");
    const [dead] = await deliveriesOf(endpoint.id);
    expect(dead).toMatchObject({ status: "dead", attempts: 3 });
    expect((await coreOf(coupleId)).version).toBe(1);

    // Fix the mapping (a new published version), replay all dead letters: applied once.
    await saveDraft(hub.ctx.db, broken.slug, { expression: `{ "guestCount": data.guests }`, cases: [] }, testActor);
    await publishDraft(hub.ctx.db, broken.slug, testActor);
    expect(await replayDeadLetters(hub.ctx, endpoint.id, testActor)).toBe(1);
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("processed");
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("skipped");
    const core = await coreOf(coupleId);
    expect(core.version).toBe(2);
    expect(core.fields.guestCount).toBe(64);
    const audit = await hub.ctx.db.execute<{ n: number }>(
      sql`select count(*)::int as n from audit_log where action = 'webhook_in.replay_dead_letters' and entity_id = ${endpoint.id}`,
    );
    expect(audit.rows[0]!.n).toBe(1);
    // A single replay works too (and is refused while one is queued).
    await replayDelivery(hub.ctx, d!.id, testActor);
    await expect(replayDelivery(hub.ctx, d!.id, testActor)).rejects.toThrow(/already queued/);
    expect(await processInboundDelivery(hub.ctx, d!.id)).toBe("processed");
    expect((await coreOf(coupleId)).version).toBe(2);
  });
});

describe("applyAs client", () => {
  it("upserts a supplier's client by (source, external id): created once, then updated", async () => {
    const supplier = await makeSupplier(hub.ctx.db);
    const { endpoint, secret } = await createInboundEndpoint(
      hub.ctx.db,
      hub.ctx.vault,
      {
        name: unique("crm"),
        scheme: { id: "standard-webhooks" },
        mappingId: clientMappingId,
        applyAs: "client",
        supplierId: supplier.id,
      },
      { actor: testActor },
    );
    const url = `${hub.ctx.publicUrl()}${INBOUND_PATH(endpoint.id)}`;
    const externalId = unique("client");
    const post = async (guests: number) => {
      expect((await send(stdSign(url, secret, { client: { id: externalId, name: "Robin Example", guests } }))).status).toBe(202);
      const rows = await hub.ctx.db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.endpointId, endpoint.id), eq(webhookDeliveries.status, "received")));
      for (const r of rows) expect(await processInboundDelivery(hub.ctx, r.id)).toBe("processed");
    };
    await post(80);
    const [rec] = await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.externalId, externalId));
    expect(rec).toMatchObject({ supplierId: supplier.id, source: "studio-crm" });
    expect((await coreOf(rec!.coupleId)).fields).toMatchObject({ partner1Name: "Robin Example", guestCount: 80 });
    await post(90);
    const recs = await hub.ctx.db.select().from(importedRecords).where(eq(importedRecords.externalId, externalId));
    expect(recs).toHaveLength(1);
    const core = await coreOf(rec!.coupleId);
    expect(core.fields.guestCount).toBe(90);
    expect(core.version).toBe(2);
  });
});

describe("sample request", () => {
  it("is a curl that verifies with the endpoint's real secret", async () => {
    const { endpoint } = await makeEndpoint({ id: "standard-webhooks" });
    const sample = sampleRequest(hub.ctx, endpoint);
    expect(sample!.curl).toContain("webhook-signature: v1,");
    expect(sample!.curl).toContain(INBOUND_PATH(endpoint.id));
  });
  it("console mapping slug is known (for the edit-mapping link)", () => {
    expect(coreMappingSlug).toMatch(/^webhook-map-/);
  });
});
