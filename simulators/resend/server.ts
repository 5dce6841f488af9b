// Resend API simulator (api.resend.com stand-in): POST /emails with Bearer
// API keys, Resend's error shape ({ statusCode, name, message }), its rate
// limit (429 rate_limit_exceeded + retry-after) and its Idempotency-Key
// semantics (same key + same body = the first answer again, no second email;
// same key + other body = 409 invalid_idempotent_request; still in flight =
// 409 concurrent_idempotent_requests). Delivery events go out Svix-signed.
import express from "express";
import type { Request, Response, Router } from "express";
import { createHash, randomUUID } from "node:crypto";
import { Webhook } from "svix";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { createOutbox, createWindowLimiter, type Outbox } from "../email/outbox.js";
import { newestFirst } from "../outbox-listing.js";

export interface ResendSimulatorOptions {
  apiKeys?: string[];
  /** Requests per second per API key (Resend's default team limit). */
  rateLimitPerSecond?: number;
}

export type ResendEventType = "email.sent" | "email.delivered" | "email.bounced" | "email.complained" | "email.delivery_delayed";

export interface ResendSimulatorDefinition extends SimulatorDefinition {
  outbox: Outbox;
  /** Where delivery events go, and the Svix signing secret ("whsec_…"). */
  setWebhook(url: string, secret: string): void;
  /** Sends one signed event about an email this simulator accepted; returns the receiver's status. */
  sendEvent(
    type: ResendEventType,
    emailId: string,
  ): Promise<{ status: number; svixId: string; body: string; headers: Record<string, string> }>;
}

const address = z.string().min(3).max(320);
const sendSchema = z.object({
  from: address,
  to: z.union([address, z.array(address).min(1).max(50)]),
  subject: z.string().min(1).max(998),
  html: z.string().optional(),
  text: z.string().optional(),
  reply_to: z.union([address, z.array(address)]).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  attachments: z.array(z.object({ filename: z.string(), content: z.string(), content_type: z.string().optional() })).optional(),
  tags: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});

function fail(res: Response, statusCode: number, name: string, message: string): void {
  res.status(statusCode).json({ statusCode, name, message });
}

export function createResendSimulator(opts: ResendSimulatorOptions = {}): ResendSimulatorDefinition {
  const keys = new Set(opts.apiKeys ?? ["re_sandbox_key"]);
  const limiter = createWindowLimiter(opts.rateLimitPerSecond ?? 10, 1000);
  const outbox = createOutbox();
  // Idempotency records: the body's hash and the answer, or "pending" while the first request runs.
  const idempotency = new Map<string, { hash: string; id: string | null }>();
  let webhook: { url: string; secret: string } | null = null;

  function auth(req: Request, res: Response): string | null {
    const header = req.get("authorization") ?? "";
    const key = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!key) {
      fail(res, 401, "missing_api_key", "Missing API key in the authorization header.");
      return null;
    }
    if (!keys.has(key)) {
      fail(res, 403, "invalid_api_key", "API key is invalid.");
      return null;
    }
    return key;
  }

  const routes = (router: Router, _ctx: SimulatorContext) => {
    router.post("/emails", express.json({ limit: "40mb" }), (req, res) => {
      const key = auth(req, res);
      if (!key) return;
      const retryAfter = limiter.take(key);
      if (retryAfter !== null) {
        res.set("retry-after", String(retryAfter));
        fail(res, 429, "rate_limit_exceeded", "Too many requests. You can only make 10 requests per second.");
        return;
      }
      const parsed = sendSchema.safeParse(req.body);
      if (!parsed.success) {
        fail(res, 422, "validation_error", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        return;
      }
      const body = parsed.data;
      if (!body.html && !body.text) {
        fail(res, 422, "validation_error", "Missing `html` or `text` field.");
        return;
      }
      const idemKey = req.get("idempotency-key") ?? null;
      const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
      if (idemKey) {
        if (idemKey.length > 256) return fail(res, 422, "invalid_idempotency_key", "The key must be between 1-256 chars.");
        const seen = idempotency.get(idemKey);
        if (seen) {
          if (seen.hash !== hash)
            return fail(res, 409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.");
          if (seen.id === null)
            return fail(
              res,
              409,
              "concurrent_idempotent_requests",
              "Same idempotency key used while original request is still in progress.",
            );
          res.status(200).json({ id: seen.id });
          return;
        }
        idempotency.set(idemKey, { hash, id: null });
      }
      const id = randomUUID();
      outbox.add({
        id,
        key: idemKey,
        from: body.from,
        to: Array.isArray(body.to) ? body.to : [body.to],
        subject: body.subject,
        html: body.html ?? null,
        text: body.text ?? null,
        attachments: (body.attachments ?? []).map((a) => ({
          filename: a.filename,
          contentType: a.content_type,
          size: Buffer.from(a.content, "base64").length,
        })),
      });
      if (idemKey) idempotency.set(idemKey, { hash, id });
      // Accepted, but the answer never comes: the caller cannot know it was sent.
      if (outbox.takeHang()) return;
      res.status(200).json({ id });
    });

    router.get("/emails/:id", (req, res) => {
      if (!auth(req, res)) return;
      const email = outbox.find(req.params.id ?? "");
      if (!email) return fail(res, 404, "not_found", "Email not found");
      res.json({ object: "email", id: email.id, to: email.to, from: email.from, subject: email.subject, last_event: "sent" });
    });
  };

  return {
    name: "resend",
    routes,
    controlRoutes(router) {
      // Newest first, ?limit= (simulators/outbox-listing.ts): the sandbox console's outbox page reads this.
      router.get("/outbox", (req, res) => {
        const { total, items } = newestFirst(outbox.list(), req.query.limit);
        res.json({ provider: "resend", channel: "email", total, emails: items, duplicates: outbox.duplicates() });
      });
    },
    outbox,
    setWebhook(url, secret) {
      webhook = { url, secret };
    },
    async sendEvent(type, emailId) {
      if (!webhook) throw new Error("resend simulator: no webhook configured");
      const email = outbox.find(emailId);
      if (!email) throw new Error(`resend simulator: no email ${emailId}`);
      const payload = JSON.stringify({
        type,
        created_at: new Date().toISOString(),
        data: {
          email_id: email.id,
          from: email.from,
          to: email.to,
          subject: email.subject,
          created_at: email.receivedAt,
          ...(type === "email.bounced"
            ? { bounce: { type: "Permanent", subType: "General", message: "The recipient's mailbox does not exist." } }
            : {}),
        },
      });
      const svixId = `msg_${randomUUID().replace(/-/g, "")}`;
      const timestamp = new Date();
      const signature = new Webhook(webhook.secret).sign(svixId, timestamp, payload);
      const headers = {
        "content-type": "application/json",
        "svix-id": svixId,
        "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "svix-signature": signature,
      };
      const res = await fetch(webhook.url, { method: "POST", headers, body: payload });
      return { status: res.status, svixId, body: payload, headers };
    },
  };
}
