// Rendering a template for a channel: HTML + plain text (+ .ics for invites)
// for email, a short text for SMS and push. Deterministic for the same data,
// so a retry after a crash sends the same bytes (Resend rejects a reused
// idempotency key with a different body).
import { createElement } from "react";
import { render } from "@react-email/render";
import type { z } from "zod";
import { renderEventResource } from "../../calendar/ical";
import { ValidationError } from "../../errors";
import type { EmailAttachment } from "../types";
import { templates, templateIdSchema, type TemplateDefinition, type TemplateId } from "./catalog";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  attachments: EmailAttachment[];
}

function lookup(template: string): TemplateDefinition<z.ZodType> {
  const id = templateIdSchema.safeParse(template);
  if (!id.success) throw new ValidationError(`Unknown template "${template}"`, { template: ["unknown template"] });
  return templates[id.data] as unknown as TemplateDefinition<z.ZodType>;
}

/** Checks a message's data against its template (at queue time). */
export function parseTemplateData(template: string, data: unknown): Record<string, unknown> {
  const def = lookup(template);
  const parsed = def.schema.safeParse(data);
  if (!parsed.success) {
    const fields: Record<string, string[]> = {};
    for (const i of parsed.error.issues) (fields[`data.${i.path.join(".")}`] ??= []).push(i.message);
    throw new ValidationError(`The data does not fit template "${template}"`, fields);
  }
  return parsed.data as Record<string, unknown>;
}

export async function renderEmail(template: string, data: unknown): Promise<RenderedEmail> {
  const def = lookup(template);
  const parsed = def.schema.parse(data);
  const element = createElement(def.Email, { data: parsed });
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  const attachments: EmailAttachment[] = [];
  if (def.id === "calendar_invite") {
    const invite = templates.calendar_invite.schema.parse(parsed);
    attachments.push({
      filename: "invite.ics",
      contentType: "text/calendar; charset=utf-8",
      // A fixed stamp keeps the bytes identical between retries of the same message.
      content: renderEventResource({ uid: invite.uid, body: invite.event, stamp: new Date(0) }),
    });
  }
  return { subject: def.subject(parsed), html, text, attachments };
}

/** The SMS / push text of a template. */
export function renderSummary(template: string, data: unknown): { title: string; body: string } {
  const def = lookup(template);
  const parsed = def.schema.parse(data);
  return { title: def.subject(parsed), body: def.summary(parsed) };
}

export function sampleData(template: TemplateId): Record<string, unknown> {
  return templates[template].sample as Record<string, unknown>;
}
