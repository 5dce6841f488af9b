// "Send a test message" in the console: staff pick a channel, a recipient and
// a template from the catalog; the hub sends the template's sample data
// through sendMessage (a fresh idempotency key, never wedding-day critical)
// and audits it in the same transaction. Bad input writes nothing.
import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import type { Actor } from "../audit/audit.server";
import { recordAudit } from "../audit/audit.server";
import { ValidationError } from "../errors";
import { normalizeRecipient } from "./recipients";
import { sendMessage } from "./send.server";
import { templateIdSchema, templateIds, templates } from "./templates/catalog";
import { sampleData } from "./templates/render.server";
import { channelSchema, type Channel } from "./types";

export const TEST_MESSAGE_CHANNELS: readonly { id: Channel; label: string; recipientHint: string }[] = [
  { id: "email", label: "Email", recipientHint: "an email address, e.g. someone@example.com" },
  { id: "sms", label: "SMS", recipientHint: "a mobile number in E.164 form, e.g. +447700900123" },
  { id: "push", label: "Push", recipientHint: "the id of a user who turned on browser notifications" },
];

export const testMessageTemplates = () => templateIds.map((id) => ({ id, label: templates[id].label }));

const formSchema = z.object({
  channel: z.enum(channelSchema.options, { error: "Choose email, SMS or push" }),
  template: z.enum(templateIdSchema.options, { error: "Choose a template from the catalog" }),
  recipient: z.string().trim().min(1, "Enter a recipient").max(320, "must be at most 320 characters"),
});

export type TestMessageField = "channel" | "template" | "recipient";
export interface TestMessageValues {
  channel: string;
  template: string;
  recipient: string;
}
export type TestMessageResult =
  | { ok: true; messageId: string; status: string }
  | { ok: false; message: string; fields: Partial<Record<TestMessageField, string>>; values: TestMessageValues };

const RECIPIENT_ERROR: Record<Channel, string> = {
  email: "must be an email address, e.g. someone@example.com",
  sms: "must be a mobile number in E.164 form (+ and country code), e.g. +447700900123",
  push: "must be a user's id (a UUID)",
};

export async function sendTestMessage(
  db: DbOrTx,
  input: { channel: unknown; template: unknown; recipient: unknown },
  actor: Actor,
): Promise<TestMessageResult> {
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const values: TestMessageValues = {
    channel: text(input.channel),
    template: text(input.template),
    recipient: text(input.recipient).trim(),
  };
  const fields: Partial<Record<TestMessageField, string>> = {};
  const parsed = formSchema.safeParse({
    channel: values.channel || undefined,
    template: values.template || undefined,
    recipient: values.recipient,
  });
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as TestMessageField;
      fields[key] ??= issue.message;
    }
  const channel = parsed.success ? parsed.data.channel : channelSchema.safeParse(values.channel).data;
  let recipient: string | null = null;
  if (channel && !fields.recipient) {
    try {
      recipient = normalizeRecipient(channel, values.recipient);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      fields.recipient = RECIPIENT_ERROR[channel];
    }
    if (recipient && channel === "push") {
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, recipient));
      if (!user) fields.recipient = "no user has this id";
    }
  }
  if (!parsed.success || !recipient || Object.keys(fields).length > 0)
    return { ok: false, message: "Nothing was sent: correct the fields marked below.", fields, values };

  const { template } = parsed.data;
  return db.transaction(async (tx) => {
    const sent = await sendMessage(tx, {
      recipients: [recipient],
      channel: parsed.data.channel,
      template,
      data: sampleData(template),
      idempotencyKey: `console-test:${crypto.randomUUID()}`,
      critical: false,
      priority: 0,
    });
    const message = sent.messages[0];
    if (!message) throw new Error("sendMessage returned no message");
    await recordAudit(tx, actor, {
      action: "message.test_send",
      entityType: "message",
      entityId: message.id,
      after: { channel: message.channel, template: message.template, recipient: message.recipient, status: message.status },
    });
    return { ok: true, messageId: message.id, status: message.status };
  });
}
