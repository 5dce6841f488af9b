// Email through Amazon SES v2 (@aws-sdk/client-sesv2) with static credentials
// and a configurable endpoint. The SDK's own retries are off (maxAttempts 1):
// the delivery engine decides about retries and failover. SES has no
// idempotency key; the hub's key travels as the `hub_key` email tag, which
// comes back on SES events (idempotent: false).
import { SESv2Client, SendEmailCommand, SESv2ServiceException } from "@aws-sdk/client-sesv2";
import type { EmailContent, MessageProvider, SendResult } from "../types";
import { formatFrom, fromHttpStatus, fromNetworkError } from "./classify";

const MESSAGE_ERRORS = new Set(["MessageRejected", "BadRequestException", "MailFromDomainNotVerifiedException"]);

/** SES tags allow [A-Za-z0-9_-] only. */
const tagValue = (v: string) => v.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);

export function createSesProvider(opts: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string;
  configurationSet?: string;
}): MessageProvider<EmailContent> & { idempotent: false } {
  const client = new SESv2Client({
    region: opts.region,
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    maxAttempts: 1,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
  return {
    id: "ses",
    channel: "email",
    idempotent: false,
    async send(message, attempt): Promise<SendResult> {
      const c = message.content;
      try {
        const out = await client.send(
          new SendEmailCommand({
            FromEmailAddress: formatFrom(c.from),
            Destination: { ToAddresses: [c.to] },
            ...(c.replyTo ? { ReplyToAddresses: [c.replyTo] } : {}),
            Content: {
              Simple: {
                Subject: { Data: c.subject, Charset: "UTF-8" },
                Body: { Html: { Data: c.html, Charset: "UTF-8" }, Text: { Data: c.text, Charset: "UTF-8" } },
                ...(c.attachments.length
                  ? {
                      Attachments: c.attachments.map((a) => ({
                        FileName: a.filename,
                        ContentType: a.contentType,
                        RawContent: Buffer.from(a.content, "utf8"),
                      })),
                    }
                  : {}),
              },
            },
            EmailTags: [
              { Name: "hub_key", Value: tagValue(attempt.requestKey) },
              { Name: "hub_message", Value: tagValue(message.id) },
            ],
            ...(opts.configurationSet ? { ConfigurationSetName: opts.configurationSet } : {}),
          }),
          { abortSignal: attempt.signal },
        );
        return { outcome: "accepted", providerMessageId: out.MessageId };
      } catch (err) {
        if (err instanceof SESv2ServiceException && err.$metadata.httpStatusCode) {
          const status = err.$metadata.httpStatusCode;
          const text = `SES ${status} ${err.name}: ${err.message}`;
          if (MESSAGE_ERRORS.has(err.name) && status < 500)
            return { outcome: "failed", scope: "message", error: text, httpStatus: status };
          if (err.name === "TooManyRequestsException" || err.name === "LimitExceededException" || status === 429)
            return { outcome: "rate_limited", retryAfterMs: 1000, error: text, httpStatus: status };
          return fromHttpStatus(status, text);
        }
        return fromNetworkError(err);
      }
    },
  };
}

/** SES tag values replace characters outside [A-Za-z0-9_-]; events are matched back with the same mapping. */
export const sesTagValue = tagValue;
