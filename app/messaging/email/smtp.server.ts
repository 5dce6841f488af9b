// Email over plain SMTP (nodemailer) for self-hosters. The message's
// Message-ID is derived from the hub's key, so a receiving system that dedupes
// on Message-ID sees one message; SMTP itself has no idempotency, so an
// ambiguous attempt is not blindly retried (idempotent: false).
import nodemailer from "nodemailer";
import type { EmailContent, MessageProvider, SendResult } from "../types";
import { formatFrom, fromNetworkError } from "./classify";

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  /** Sandbox/test servers without a certificate. */
  allowPlain?: boolean;
  messageIdDomain?: string;
}

interface SmtpError {
  responseCode?: number;
  command?: string;
  message: string;
}
const smtpError = (e: unknown): SmtpError | null =>
  typeof e === "object" && e !== null && "responseCode" in e && typeof e.responseCode === "number" ? (e as SmtpError) : null;

export function smtpMessageId(key: string, domain = "hub.wedsync.local"): string {
  return `<${Buffer.from(key).toString("base64url")}@${domain}>`;
}

export function createSmtpProvider(opts: SmtpOptions): MessageProvider<EmailContent> & { idempotent: false } {
  const transport = nodemailer.createTransport({
    host: opts.host,
    port: opts.port,
    secure: opts.secure,
    ...(opts.user ? { auth: { user: opts.user, pass: opts.password ?? "" } } : {}),
    ...(opts.allowPlain ? { ignoreTLS: true } : {}),
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 15_000,
  });
  return {
    id: "smtp",
    channel: "email",
    idempotent: false,
    async send(message, attempt): Promise<SendResult> {
      const c = message.content;
      try {
        const info = await transport.sendMail({
          from: formatFrom(c.from),
          to: c.to,
          ...(c.replyTo ? { replyTo: c.replyTo } : {}),
          subject: c.subject,
          text: c.text,
          html: c.html,
          messageId: smtpMessageId(attempt.requestKey, opts.messageIdDomain),
          headers: { "X-Hub-Idempotency-Key": attempt.requestKey },
          attachments: c.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
        });
        return { outcome: "accepted", providerMessageId: info.messageId };
      } catch (err) {
        const e = smtpError(err);
        if (e?.responseCode) {
          const text = `SMTP ${e.responseCode} on ${e.command ?? "?"}: ${e.message}`;
          // 5xx to RCPT TO: this address will not work anywhere; anything else is the server's trouble.
          if (e.responseCode >= 500 && e.command === "RCPT TO")
            return { outcome: "failed", scope: "message", error: text, httpStatus: e.responseCode };
          if (e.responseCode === 421 || e.responseCode === 450 || e.responseCode === 451 || e.responseCode === 452)
            return { outcome: "rate_limited", retryAfterMs: 5_000, error: text };
          // After DATA the server may have queued it before failing to answer.
          if (e.command === "DATA" && e.responseCode >= 500) return { outcome: "failed", scope: "message", error: text };
          return { outcome: "failed", scope: "provider", error: text, httpStatus: e.responseCode };
        }
        return fromNetworkError(err);
      }
    },
    close: async () => transport.close(),
  };
}
