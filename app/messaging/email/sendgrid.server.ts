// Email through @sendgrid/mail with its own Client (not the shared singleton),
// pointed at the configured base URL. SendGrid has no idempotency key: the
// hub's key travels as a custom arg (it comes back on every Event Webhook
// event) and as a header, but SendGrid would not dedupe a resend, so an
// ambiguous attempt is never blindly retried (idempotent: false).
import sgClient from "@sendgrid/client";
import { MailService } from "@sendgrid/mail";
import type { EmailContent, MessageProvider, SendResult } from "../types";
import { fromHttpStatus, fromNetworkError, retryAfterMs } from "./classify";

type SendGridClient = typeof sgClient;
const ClientClass = (sgClient as unknown as { Client: new () => SendGridClient }).Client;

interface ResponseErrorLike {
  code: number;
  message: string;
  response?: { headers?: Record<string, string>; body?: unknown };
}
const isResponseError = (e: unknown): e is ResponseErrorLike =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "number" && "response" in e;

export function createSendGridProvider(opts: {
  apiKey: string;
  baseUrl?: string;
}): MessageProvider<EmailContent> & { idempotent: false } {
  const client = new ClientClass();
  client.setApiKey(opts.apiKey);
  if (opts.baseUrl) client.setDefaultRequest("baseUrl", opts.baseUrl.replace(/\/$/, ""));
  const mail = new MailService();
  mail.setClient(client);
  return {
    id: "sendgrid",
    channel: "email",
    idempotent: false,
    async send(message, attempt): Promise<SendResult> {
      const c = message.content;
      try {
        const [response] = await mail.send({
          to: c.to,
          from: c.from.name ? { email: c.from.email, name: c.from.name } : c.from.email,
          ...(c.replyTo ? { replyTo: c.replyTo } : {}),
          subject: c.subject,
          text: c.text,
          html: c.html,
          attachments: c.attachments.map((a) => ({
            filename: a.filename,
            type: a.contentType,
            content: Buffer.from(a.content, "utf8").toString("base64"),
            disposition: "attachment",
          })),
          customArgs: { hub_key: attempt.requestKey, hub_message: message.id },
          headers: { "X-Hub-Idempotency-Key": attempt.requestKey },
        });
        const headers = response.headers as Record<string, string | undefined>;
        return { outcome: "accepted", providerMessageId: headers["x-message-id"] };
      } catch (err) {
        if (isResponseError(err)) {
          const h = err.response?.headers ?? {};
          const reset = Number(h["x-ratelimit-reset"]);
          const wait =
            retryAfterMs(h["retry-after"]) ?? (Number.isFinite(reset) ? Math.max(0, reset * 1000 - Date.now()) : undefined);
          return fromHttpStatus(
            err.code,
            `SendGrid ${err.code}: ${JSON.stringify(err.response?.body ?? err.message).slice(0, 500)}`,
            wait,
          );
        }
        return fromNetworkError(err);
      }
    },
  };
}
