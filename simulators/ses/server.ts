// Amazon SES v2 simulator (email.<region>.amazonaws.com stand-in): POST
// /v2/email/outbound-emails, signed with SigV4 (the access key id in the
// Credential scope must be known), AWS REST-JSON errors (x-amzn-ErrorType +
// { message }), 429 TooManyRequestsException. SES has no idempotency key, so
// deliveries are counted per the `hub_key` email tag the hub sends.
// Events go out the way SES publishes them to an HTTP endpoint: through SNS,
// signed (SignatureVersion 2, SHA256withRSA) with a certificate this simulator
// serves at its own SigningCertURL.
import express from "express";
import type { Request, Response, Router } from "express";
import { createSign, randomUUID } from "node:crypto";
import { generate } from "selfsigned";
import { z } from "zod";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";
import { createOutbox, createWindowLimiter, type Outbox } from "../email/outbox.js";
import { newestFirst } from "../outbox-listing.js";

export interface SesSimulatorOptions {
  accessKeyIds?: string[];
  /** SES sending rate (messages per second per account). */
  maxSendRate?: number;
  topicArn?: string;
}

export type SesEventType = "Delivery" | "Bounce" | "Complaint";

export interface SesSimulatorDefinition extends SimulatorDefinition {
  outbox: Outbox;
  setWebhook(url: string): void;
  sendEvent(type: SesEventType, messageId: string): Promise<{ status: number; snsMessageId: string; body: string }>;
  /** The SNS string-to-sign + signature for any envelope (tests forge and tamper with it). */
  signEnvelope(envelope: Record<string, string>): Promise<Record<string, string>>;
}

const text = z.object({ Data: z.string(), Charset: z.string().optional() });
const sendSchema = z.object({
  FromEmailAddress: z.string().min(3),
  Destination: z.object({ ToAddresses: z.array(z.string().min(3)).min(1) }),
  ReplyToAddresses: z.array(z.string()).optional(),
  Content: z.object({
    Simple: z
      .object({
        Subject: text,
        Body: z.object({ Html: text.optional(), Text: text.optional() }),
        Headers: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
        Attachments: z
          .array(z.object({ RawContent: z.string(), FileName: z.string(), ContentType: z.string().optional() }))
          .optional(),
      })
      .optional(),
  }),
  EmailTags: z.array(z.object({ Name: z.string(), Value: z.string() })).optional(),
  ConfigurationSetName: z.string().optional(),
});

function awsError(res: Response, status: number, type: string, message: string): void {
  res.set("x-amzn-ErrorType", type);
  res.set("x-amzn-RequestId", randomUUID());
  res.status(status).json({ message });
}

/** The canonical string SNS signs for a Notification (keys in this order, Subject only when present). */
export function snsStringToSign(m: Record<string, string | undefined>): string {
  const keys =
    m.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return keys
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k}\n${m[k]}\n`)
    .join("");
}

export function createSesSimulator(opts: SesSimulatorOptions = {}): SesSimulatorDefinition {
  const accessKeys = new Set(opts.accessKeyIds ?? ["AKIASANDBOX"]);
  const limiter = createWindowLimiter(opts.maxSendRate ?? 14, 1000);
  const topicArn = opts.topicArn ?? "arn:aws:sns:eu-west-1:000000000000:hub-ses-events";
  const outbox = createOutbox();
  const sent = new Map<string, { to: string[]; from: string; key: string | null; at: string }>();
  let simCtx: SimulatorContext | null = null;
  let webhookUrl: string | null = null;
  let certificate: Promise<{ cert: string; key: string }> | null = null;
  const cert = () =>
    (certificate ??= generate([{ name: "commonName", value: "sns.127.0.0.1.sim" }], {
      keySize: 2048,
      algorithm: "sha256",
    }).then((p) => ({ cert: p.cert, key: p.private })));

  function auth(req: Request, res: Response): string | null {
    const header = req.get("authorization") ?? "";
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[^/]+\/ses\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(
        header,
      );
    if (!m) {
      awsError(res, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
      return null;
    }
    if (!accessKeys.has(m[1] ?? "")) {
      awsError(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
      return null;
    }
    return m[1] ?? null;
  }

  async function signEnvelope(envelope: Record<string, string>): Promise<Record<string, string>> {
    const { key } = await cert();
    if (!simCtx) throw new Error("ses simulator not started");
    const signingCertURL = `${simCtx.baseUrl()}/SimpleNotificationService-sim.pem`;
    const signature = createSign("RSA-SHA256").update(snsStringToSign(envelope)).sign(key, "base64");
    return { ...envelope, SignatureVersion: "2", Signature: signature, SigningCertURL: signingCertURL };
  }

  const routes = (router: Router, ctx: SimulatorContext) => {
    simCtx = ctx;
    router.get("/SimpleNotificationService-sim.pem", (_req, res, next) => {
      cert()
        .then(({ cert: pem }) => res.type("application/x-x509-ca-cert").send(pem))
        .catch(next);
    });
    router.post("/v2/email/outbound-emails", express.json({ limit: "40mb", type: () => true }), (req, res) => {
      const account = auth(req, res);
      if (!account) return;
      const retryAfter = limiter.take(account);
      if (retryAfter !== null) {
        res.set("Retry-After", String(retryAfter));
        awsError(res, 429, "TooManyRequestsException", "Maximum sending rate exceeded.");
        return;
      }
      const parsed = sendSchema.safeParse(req.body);
      if (!parsed.success || !parsed.data.Content.Simple) {
        awsError(
          res,
          400,
          "BadRequestException",
          parsed.success ? "Content.Simple is required" : (parsed.error.issues[0]?.message ?? "Bad request"),
        );
        return;
      }
      const body = parsed.data;
      const simple = parsed.data.Content.Simple;
      if (!simple.Body.Html && !simple.Body.Text) return awsError(res, 400, "MessageRejected", "Email body is empty.");
      const key = body.EmailTags?.find((t) => t.Name === "hub_key")?.Value ?? null;
      const id = `0102${randomUUID().replace(/-/g, "")}-000000`;
      outbox.add({
        id,
        key,
        from: body.FromEmailAddress,
        to: body.Destination.ToAddresses,
        subject: simple.Subject.Data,
        html: simple.Body.Html?.Data ?? null,
        text: simple.Body.Text?.Data ?? null,
        attachments: (simple.Attachments ?? []).map((a) => ({
          filename: a.FileName,
          contentType: a.ContentType,
          size: Buffer.from(a.RawContent, "base64").length,
        })),
      });
      sent.set(id, { to: body.Destination.ToAddresses, from: body.FromEmailAddress, key, at: new Date().toISOString() });
      if (outbox.takeHang()) return;
      res.status(200).json({ MessageId: id });
    });
  };

  return {
    name: "ses",
    routes,
    controlRoutes(router) {
      // Newest first, ?limit= (simulators/outbox-listing.ts): the sandbox console's outbox page reads this.
      router.get("/outbox", (req, res) => {
        const { total, items } = newestFirst(outbox.list(), req.query.limit);
        res.json({ provider: "ses", channel: "email", total, emails: items, duplicates: outbox.duplicates() });
      });
    },
    outbox,
    setWebhook(url) {
      webhookUrl = url;
    },
    signEnvelope,
    async sendEvent(type, messageId) {
      if (!webhookUrl) throw new Error("ses simulator: no webhook configured");
      const mail = sent.get(messageId);
      if (!mail) throw new Error(`ses simulator: no message ${messageId}`);
      const now = new Date().toISOString();
      const event: Record<string, unknown> = {
        eventType: type,
        mail: {
          timestamp: mail.at,
          messageId,
          source: mail.from,
          destination: mail.to,
          tags: mail.key ? { hub_key: [mail.key] } : {},
        },
      };
      if (type === "Bounce")
        event.bounce = {
          bounceType: "Permanent",
          bounceSubType: "General",
          bouncedRecipients: mail.to.map((emailAddress) => ({ emailAddress, action: "failed", status: "5.1.1" })),
          timestamp: now,
          feedbackId: randomUUID(),
        };
      if (type === "Complaint")
        event.complaint = {
          complainedRecipients: mail.to.map((emailAddress) => ({ emailAddress })),
          timestamp: now,
          feedbackId: randomUUID(),
        };
      if (type === "Delivery")
        event.delivery = { timestamp: now, recipients: mail.to, smtpResponse: "250 2.6.0 Message received" };
      const snsMessageId = randomUUID();
      const envelope = await signEnvelope({
        Type: "Notification",
        MessageId: snsMessageId,
        TopicArn: topicArn,
        Message: JSON.stringify(event),
        Timestamp: now,
        UnsubscribeURL: `${simCtx?.baseUrl() ?? ""}/?Action=Unsubscribe&SubscriptionArn=${topicArn}:sim`,
      });
      const body = JSON.stringify(envelope);
      const res = await fetch(webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "text/plain; charset=UTF-8",
          "x-amz-sns-message-type": "Notification",
          "x-amz-sns-message-id": snsMessageId,
          "x-amz-sns-topic-arn": topicArn,
        },
        body,
      });
      return { status: res.status, snsMessageId, body };
    },
  };
}
