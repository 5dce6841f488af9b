// SendGrid v3 Mail Send simulator (api.sendgrid.com stand-in): POST
// /v3/mail/send with a Bearer API key, SendGrid's { errors: [...] } shape,
// 202 with X-Message-Id, 429 with X-RateLimit-* headers. SendGrid has no
// idempotency keys, so the simulator does NOT dedupe: it counts deliveries per
// the `hub_key` custom arg the hub sends, which is how tests catch a double send.
// The Event Webhook is signed like SendGrid's: ECDSA P-256 over timestamp + body.
import express from "express";
import type { Request, Response, Router } from "express";
import { generateKeyPairSync, randomBytes, sign as ecdsaSign } from "node:crypto";
import { z } from "zod";
import type { SimulatorDefinition } from "../harness.js";
import { createOutbox, createWindowLimiter, type Outbox } from "../email/outbox.js";
import { newestFirst } from "../outbox-listing.js";

export interface SendGridSimulatorOptions {
  apiKeys?: string[];
  /** Requests per second per API key. */
  rateLimitPerSecond?: number;
}

export type SendGridEventType = "processed" | "delivered" | "bounce" | "dropped" | "spamreport" | "deferred";

export interface SendGridSimulatorDefinition extends SimulatorDefinition {
  outbox: Outbox;
  /** The Event Webhook verification key as SendGrid shows it: base64 DER (SPKI) of the P-256 public key. */
  publicKey: string;
  setWebhook(url: string): void;
  sendEvent(
    type: SendGridEventType,
    emailId: string,
  ): Promise<{ status: number; eventId: string; body: string; headers: Record<string, string> }>;
}

const email = z.object({ email: z.string().min(3).max(320), name: z.string().optional() });
const sendSchema = z.object({
  personalizations: z
    .array(
      z.object({
        to: z.array(email).min(1),
        subject: z.string().optional(),
        custom_args: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
  from: email,
  reply_to: email.optional(),
  subject: z.string().optional(),
  content: z.array(z.object({ type: z.string(), value: z.string() })).min(1),
  attachments: z
    .array(
      z.object({ content: z.string(), filename: z.string(), type: z.string().optional(), disposition: z.string().optional() }),
    )
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  custom_args: z.record(z.string(), z.string()).optional(),
  categories: z.array(z.string()).optional(),
});

function fail(res: Response, status: number, message: string, field: string | null = null): void {
  res.status(status).json({ errors: [{ message, field, help: null }] });
}

export function createSendGridSimulator(opts: SendGridSimulatorOptions = {}): SendGridSimulatorDefinition {
  const keys = new Set(opts.apiKeys ?? ["SG.sandbox-key"]);
  const perSecond = opts.rateLimitPerSecond ?? 100;
  const limiter = createWindowLimiter(perSecond, 1000);
  const outbox = createOutbox();
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const publicKeyB64 = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const recipients = new Map<string, { to: string; key: string | null }>();
  let webhookUrl: string | null = null;

  function auth(req: Request, res: Response): string | null {
    const header = req.get("authorization") ?? "";
    const key = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!keys.has(key)) {
      fail(res, 401, "The provided authorization grant is invalid, expired, or revoked");
      return null;
    }
    return key;
  }

  const routes = (router: Router) => {
    router.post("/v3/mail/send", express.json({ limit: "30mb" }), (req, res) => {
      const key = auth(req, res);
      if (!key) return;
      const retryAfter = limiter.take(key);
      res.set("X-RateLimit-Limit", String(perSecond));
      if (retryAfter !== null) {
        res.set("X-RateLimit-Remaining", "0");
        res.set("X-RateLimit-Reset", String(Math.floor(Date.now() / 1000) + retryAfter));
        res.set("Retry-After", String(retryAfter));
        fail(res, 429, "too many requests");
        return;
      }
      const parsed = sendSchema.safeParse(req.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        fail(res, 400, issue?.message ?? "Bad Request", issue ? issue.path.join(".") : null);
        return;
      }
      const body = parsed.data;
      const subject = body.personalizations[0]?.subject ?? body.subject;
      if (!subject) return fail(res, 400, "The subject is required.", "subject");
      const args = { ...body.custom_args, ...body.personalizations[0]?.custom_args };
      const id = randomBytes(16).toString("base64url");
      const to = body.personalizations.flatMap((p) => p.to.map((t) => t.email));
      outbox.add({
        id,
        key: args.hub_key ?? null,
        from: body.from.email,
        to,
        subject,
        html: body.content.find((c) => c.type === "text/html")?.value ?? null,
        text: body.content.find((c) => c.type === "text/plain")?.value ?? null,
        attachments: (body.attachments ?? []).map((a) => ({
          filename: a.filename,
          contentType: a.type,
          size: Buffer.from(a.content, "base64").length,
        })),
      });
      recipients.set(id, { to: to[0] ?? "", key: args.hub_key ?? null });
      if (outbox.takeHang()) return;
      res.set("X-Message-Id", id);
      res.status(202).end();
    });
  };

  return {
    name: "sendgrid",
    routes,
    controlRoutes(router) {
      // Newest first, ?limit= (simulators/outbox-listing.ts): the sandbox console's outbox page reads this.
      router.get("/outbox", (req, res) => {
        const { total, items } = newestFirst(outbox.list(), req.query.limit);
        res.json({ provider: "sendgrid", channel: "email", total, emails: items, duplicates: outbox.duplicates() });
      });
      router.get("/event-webhook-key", (_req, res) => {
        res.json({ public_key: publicKeyB64 });
      });
    },
    outbox,
    publicKey: publicKeyB64,
    setWebhook(url) {
      webhookUrl = url;
    },
    async sendEvent(type, emailId) {
      if (!webhookUrl) throw new Error("sendgrid simulator: no webhook configured");
      const sent = recipients.get(emailId);
      if (!sent) throw new Error(`sendgrid simulator: no email ${emailId}`);
      const eventId = randomBytes(16).toString("base64url");
      const event: Record<string, unknown> = {
        email: sent.to,
        timestamp: Math.floor(Date.now() / 1000),
        event: type,
        sg_event_id: eventId,
        sg_message_id: `${emailId}.filterdrecv-sim-1`,
        ...(sent.key ? { hub_key: sent.key } : {}),
        ...(type === "bounce" ? { type: "bounce", reason: "550 5.1.1 The email account does not exist.", status: "5.1.1" } : {}),
      };
      const body = JSON.stringify([event]);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = ecdsaSign("sha256", Buffer.from(timestamp + body), privateKey).toString("base64");
      const headers = {
        "content-type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": signature,
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
      };
      const res = await fetch(webhookUrl, { method: "POST", headers, body });
      return { status: res.status, eventId, body, headers };
    },
  };
}
