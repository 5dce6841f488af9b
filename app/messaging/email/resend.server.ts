// Email through Resend's SDK. Resend honours the Idempotency-Key header, so an
// ambiguous attempt is safely retried with the same key (idempotent: true).
import { Resend } from "resend";
import { z } from "zod";
import type { EmailContent, MessageProvider, SendResult } from "../types";
import { formatFrom, fromHttpStatus, retryAfterMs } from "./classify";

const errorSchema = z.object({
  statusCode: z.number().nullable().optional(),
  name: z.string().optional(),
  message: z.string().optional(),
  // The simulator harness's injected faults answer { error: { code } }.
  error: z.object({ code: z.number(), message: z.string().optional() }).optional(),
});

const MESSAGE_ERRORS = new Set(["validation_error", "missing_required_field", "invalid_from_address", "invalid_attachment"]);

export function createResendProvider(opts: {
  apiKey: string;
  baseUrl?: string;
}): MessageProvider<EmailContent> & { idempotent: true } {
  const client = new Resend(opts.apiKey, opts.baseUrl ? { baseUrl: opts.baseUrl.replace(/\/$/, "") } : undefined);
  return {
    id: "resend",
    channel: "email",
    idempotent: true,
    async send(message, attempt): Promise<SendResult> {
      const c = message.content;
      const res = await client.emails.send(
        {
          from: formatFrom(c.from),
          to: [c.to],
          subject: c.subject,
          html: c.html,
          text: c.text,
          ...(c.replyTo ? { replyTo: c.replyTo } : {}),
          attachments: c.attachments.map((a) => ({
            filename: a.filename,
            content: Buffer.from(a.content, "utf8").toString("base64"),
            contentType: a.contentType,
          })),
          tags: [{ name: "hub_message", value: message.id }],
        },
        { idempotencyKey: attempt.requestKey },
      );
      if (res.data) return { outcome: "accepted", providerMessageId: res.data.id };
      const err = errorSchema.parse(res.error ?? {});
      const status = err.statusCode ?? err.error?.code ?? null;
      const text = `${err.name ?? "error"}: ${err.message ?? err.error?.message ?? "unknown"}`;
      const headers = res.headers ?? {};
      if (err.name === "rate_limit_exceeded" || status === 429)
        return {
          outcome: "rate_limited",
          retryAfterMs: retryAfterMs(headers["retry-after"]) ?? 1000,
          error: text,
          httpStatus: 429,
        };
      // The SDK swallows network errors into statusCode null: the request may have gone out.
      if (status === null) return { outcome: "ambiguous", error: text };
      if (err.name && MESSAGE_ERRORS.has(err.name))
        return { outcome: "failed", scope: "message", error: text, httpStatus: status };
      // 409 concurrent_idempotent_requests: the first try is still being processed; it is not ours to resend elsewhere.
      if (err.name === "concurrent_idempotent_requests") return { outcome: "ambiguous", error: text };
      return fromHttpStatus(status, text);
    },
  };
}
