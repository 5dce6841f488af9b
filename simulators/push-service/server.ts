// A Web Push service (RFC 8030) as browsers' vendors run them: POST
// /push/{id} with TTL (required), Urgency and Topic headers, a VAPID
// Authorization (RFC 8292: "vapid t=<ES256 JWT>, k=<public key>"), and an
// aes128gcm body (RFC 8188 / RFC 8291). Subscriptions are registered through
// the control API with the browser side's private key and auth secret, so the
// simulator can DECRYPT what arrives and tests can compare it with what the hub
// meant to send. The crypto here is written from the RFCs with node:crypto,
// independently of the web-push library the hub uses.
import crypto from "node:crypto";
import express from "express";
import type { Response } from "express";
import { z } from "zod";
import type { SimulatorDefinition } from "../harness.js";
import { newestFirst } from "../outbox-listing.js";

export interface PushSubscriptionKeys {
  /** Browser side: uncompressed P-256 public key (65 bytes) and its private scalar (32 bytes), base64url. */
  publicKey: string;
  privateKey: string;
  /** 16-byte auth secret, base64url. */
  auth: string;
  /** The applicationServerKey the subscription was created with; pushes signed by another key get 403. */
  applicationServerKey?: string;
}

export interface ReceivedPush {
  subscriptionId: string;
  ttl: number;
  urgency: string;
  topic: string | null;
  /** The decrypted payload, UTF-8. */
  payload: string;
  vapidSubject: string;
  receivedAt: Date;
}

export interface PushServiceState {
  /** Register a subscription; returns its endpoint on this simulator. */
  subscribe(keys: PushSubscriptionKeys): { id: string; endpoint: string };
  /** The browser unsubscribed / the subscription expired: pushes get 410 Gone from now on. */
  expire(id: string): void;
  received(): ReceivedPush[];
  rejected(): { subscriptionId: string; status: number; reason: string }[];
  reset(): void;
}

export type PushServiceSimulatorDefinition = SimulatorDefinition & { push: PushServiceState };

const b64 = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/);
const URGENCIES = new Set(["very-low", "low", "normal", "high"]);

/** RFC 8291 §3.4 + RFC 8188: decrypt an aes128gcm Web Push body with the user agent's keys. */
export function decryptAes128gcm(body: Buffer, ua: { publicKey: Buffer; privateKey: Buffer; auth: Buffer }): Buffer {
  if (body.length < 21) throw new Error("body shorter than the aes128gcm header");
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  if (idlen !== 65 || asPublic[0] !== 0x04) throw new Error("keyid is not an uncompressed P-256 public key");
  if (rs < 18) throw new Error("record size too small");
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.setPrivateKey(ua.privateKey);
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const hmac = (key: Buffer, data: Buffer) => crypto.createHmac("sha256", key).update(data).digest();
  const prkKey = hmac(ua.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ua.publicKey, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01", "latin1")).subarray(0, 16);
  const baseNonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01", "latin1")).subarray(0, 12);
  const records = body.subarray(21 + idlen);
  const out: Buffer[] = [];
  for (let seq = 0, off = 0; off < records.length; seq++, off += rs) {
    const record = records.subarray(off, Math.min(off + rs, records.length));
    const last = off + rs >= records.length;
    const nonce = Buffer.from(baseNonce);
    // The record sequence number is XORed into the end of the nonce (RFC 8188 §2.3); the low 32 bits suffice here.
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = crypto.createDecipheriv("aes-128-gcm", cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // Padding: trailing zeros after a delimiter, 0x02 in the last record, 0x01 in the others.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0 || plain[end] !== (last ? 2 : 1)) throw new Error("bad padding delimiter");
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}

interface VapidCheck {
  ok: boolean;
  status: number;
  reason: string;
  key?: string;
  subject?: string;
}

/** RFC 8292: ES256 JWT over aud (this service's origin), exp (≤ 24 h ahead), sub; signed by k. */
function checkVapid(header: string | undefined, origin: string): VapidCheck {
  const m = /^vapid\s+(.+)$/i.exec(header ?? "");
  if (!m) return { ok: false, status: 401, reason: "missing VAPID authorization" };
  const params = Object.fromEntries(
    m[1]!.split(",").map((part) => {
      const eq = part.indexOf("=");
      return [part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim()];
    }),
  );
  const token = params.t;
  const k = params.k;
  if (!token || !k || !b64.safeParse(k).success) return { ok: false, status: 401, reason: "VAPID t and k are required" };
  const [h, p, s] = token.split(".");
  if (!h || !p || !s) return { ok: false, status: 401, reason: "malformed JWT" };
  const jwtHeader = z
    .object({ alg: z.literal("ES256"), typ: z.string().optional() })
    .safeParse(JSON.parse(Buffer.from(h, "base64url").toString("utf8")));
  if (!jwtHeader.success) return { ok: false, status: 401, reason: "JWT alg must be ES256" };
  const raw = Buffer.from(k, "base64url");
  if (raw.length !== 65 || raw[0] !== 4) return { ok: false, status: 401, reason: "k is not an uncompressed P-256 key" };
  const key = crypto.createPublicKey({
    key: { kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33).toString("base64url") },
    format: "jwk",
  });
  const valid = crypto.verify(
    "sha256",
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s, "base64url"),
  );
  if (!valid) return { ok: false, status: 401, reason: "JWT signature does not verify with k" };
  const claims = z
    .object({ aud: z.string(), exp: z.number(), sub: z.string().regex(/^(mailto:|https:)/) })
    .safeParse(JSON.parse(Buffer.from(p, "base64url").toString("utf8")));
  if (!claims.success) return { ok: false, status: 401, reason: "JWT needs aud, exp and a mailto:/https: sub" };
  const now = Math.floor(Date.now() / 1000);
  if (claims.data.aud !== origin) return { ok: false, status: 401, reason: `JWT aud ${claims.data.aud} is not ${origin}` };
  if (claims.data.exp <= now) return { ok: false, status: 401, reason: "JWT expired" };
  if (claims.data.exp > now + 24 * 3600) return { ok: false, status: 401, reason: "JWT exp more than 24 hours ahead" };
  return { ok: true, status: 200, reason: "ok", key: k, subject: claims.data.sub };
}

export function createPushServiceSimulator(): PushServiceSimulatorDefinition {
  const subs = new Map<string, PushSubscriptionKeys & { expired: boolean }>();
  const received: ReceivedPush[] = [];
  const rejected: { subscriptionId: string; status: number; reason: string }[] = [];
  let baseUrl = (): string => "";

  const state: PushServiceState = {
    subscribe(keys) {
      const id = crypto.randomBytes(12).toString("base64url");
      subs.set(id, { ...keys, expired: false });
      return { id, endpoint: `${baseUrl()}/push/${id}` };
    },
    expire(id) {
      const s = subs.get(id);
      if (s) s.expired = true;
    },
    received: () => [...received],
    rejected: () => [...rejected],
    reset() {
      received.length = 0;
      rejected.length = 0;
    },
  };

  const refuse = (res: Response, id: string, status: number, reason: string) => {
    rejected.push({ subscriptionId: id, status, reason });
    res.status(status).json({ code: status, errno: status, error: reason, message: reason });
  };

  return {
    name: "push-service",
    push: state,
    routes(router, ctx) {
      baseUrl = () => ctx.baseUrl();
      // The body is read by hand: body-parser would try to "decode" Content-Encoding: aes128gcm and refuse it.
      const rawBody: express.RequestHandler = (req, _res, next) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
          size += c.length;
          if (size <= 8192) chunks.push(c);
        });
        req.on("end", () => {
          (req as express.Request & { rawBody?: Buffer }).rawBody = Buffer.concat(chunks);
          next();
        });
        req.on("error", next);
      };
      router.post("/push/:id", rawBody, (req: express.Request & { rawBody?: Buffer }, res) => {
        const id = String(req.params.id);
        const sub = subs.get(id);
        if (!sub) return refuse(res, id, 404, "no such subscription");
        if (sub.expired) return refuse(res, id, 410, "subscription expired or unsubscribed");
        let vapid: VapidCheck;
        try {
          vapid = checkVapid(req.headers.authorization, new URL(ctx.baseUrl()).origin);
        } catch {
          vapid = { ok: false, status: 401, reason: "unreadable VAPID token" };
        }
        if (!vapid.ok) return refuse(res, id, vapid.status, vapid.reason);
        if (sub.applicationServerKey && vapid.key !== sub.applicationServerKey)
          return refuse(res, id, 403, "VAPID key does not match the subscription's applicationServerKey");
        const ttl = Number(req.headers.ttl);
        if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0)
          return refuse(res, id, 400, "TTL header required");
        const urgency = String(req.headers.urgency ?? "normal");
        if (!URGENCIES.has(urgency)) return refuse(res, id, 400, `invalid Urgency ${urgency}`);
        const topic = req.headers.topic === undefined ? null : String(req.headers.topic);
        if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic))
          return refuse(res, id, 400, "Topic must be at most 32 base64url characters");
        if (req.headers["content-encoding"] !== "aes128gcm") return refuse(res, id, 415, "Content-Encoding must be aes128gcm");
        const body = req.rawBody ?? Buffer.alloc(0);
        if (body.length > 4096) return refuse(res, id, 413, "payload larger than 4096 bytes");
        let payload: string;
        try {
          payload = decryptAes128gcm(body, {
            publicKey: Buffer.from(sub.publicKey, "base64url"),
            privateKey: Buffer.from(sub.privateKey, "base64url"),
            auth: Buffer.from(sub.auth, "base64url"),
          }).toString("utf8");
        } catch (err) {
          return refuse(res, id, 400, `cannot decrypt: ${err instanceof Error ? err.message : String(err)}`);
        }
        const messageId = crypto.randomBytes(8).toString("hex");
        received.push({
          subscriptionId: id,
          ttl,
          urgency,
          topic,
          payload,
          vapidSubject: vapid.subject ?? "",
          receivedAt: new Date(),
        });
        res.status(201).set("Location", `${ctx.baseUrl()}/message/${messageId}`).end();
      });
    },
    controlRoutes(router) {
      router.post("/subscriptions", (req, res) => {
        const parsed = z
          .object({ publicKey: b64, privateKey: b64, auth: b64, applicationServerKey: b64.optional() })
          .safeParse(req.body);
        if (!parsed.success) return void res.status(400).json({ error: "publicKey, privateKey, auth (base64url) required" });
        res.status(201).json(state.subscribe(parsed.data));
      });
      router.delete("/subscriptions/:id", (req, res) => {
        state.expire(String(req.params.id));
        res.json({ ok: true });
      });
      router.get("/received", (_req, res) => {
        res.json({ received: state.received(), rejected: state.rejected() });
      });
      // Newest first, ?limit= (simulators/outbox-listing.ts): the sandbox console's outbox page reads this.
      router.get("/outbox", (req, res) => {
        const { total, items } = newestFirst(state.received(), req.query.limit);
        res.json({ provider: "push-service", channel: "push", total, received: items });
      });
    },
  };
}
