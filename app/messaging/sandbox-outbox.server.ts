// The sandbox outbox: what the email, SMS and push simulators received, read
// over HTTP from each simulator's simulator-only GET /__sim/outbox (newest
// first), so it is right whichever hub process serves the page. Each entry is
// linked back to the hub's message when its key or provider id matches.
import { inArray, or } from "drizzle-orm";
import { z } from "zod";
import { messages } from "../../db/schema";
import type { HubContext } from "../runtime/context.server";
import { sandboxSimulatorUrl } from "../connectors/sandbox.server";
import type { Channel } from "./types";

export const OUTBOX_SOURCES = [
  { simulator: "resend", channel: "email", label: "Resend" },
  { simulator: "sendgrid", channel: "email", label: "SendGrid" },
  { simulator: "ses", channel: "email", label: "Amazon SES" },
  { simulator: "twilio", channel: "sms", label: "Twilio" },
  { simulator: "push-service", channel: "push", label: "Web Push service" },
] as const satisfies readonly { simulator: string; channel: Channel; label: string }[];

type SourceId = (typeof OUTBOX_SOURCES)[number]["simulator"];

const emailSchema = z.object({
  id: z.string(),
  key: z.string().nullable(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  html: z.string().nullable(),
  text: z.string().nullable(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string().optional(), size: z.number() })),
  receivedAt: z.string(),
});
const smsSchema = z.object({
  sid: z.string(),
  from: z.string(),
  to: z.string(),
  body: z.string(),
  numSegments: z.number(),
  encoding: z.string(),
  status: z.string(),
  createdAt: z.string(),
});
const pushSchema = z.object({
  subscriptionId: z.string(),
  ttl: z.number(),
  urgency: z.string(),
  topic: z.string().nullable(),
  payload: z.string(),
  receivedAt: z.string(),
});
const listingSchemas = {
  email: z.object({ total: z.number().int(), emails: z.array(emailSchema) }),
  sms: z.object({ total: z.number().int(), messages: z.array(smsSchema) }),
  push: z.object({ total: z.number().int(), received: z.array(pushSchema) }),
};
const pushPayloadSchema = z.object({
  title: z.string().optional(),
  body: z.string().optional(),
  url: z.string().optional(),
  tag: z.string().optional(),
});

interface EntryBase {
  /** Unique on the page. */
  key: string;
  simulator: SourceId;
  source: string;
  receivedAt: string;
  /** The hub's message this is, when it can be matched. */
  messageId: string | null;
}
export type OutboxEntry =
  | (EntryBase & {
      channel: "email";
      providerId: string;
      idempotencyKey: string | null;
      from: string;
      to: string[];
      subject: string;
      html: string | null;
      text: string | null;
      attachments: { filename: string; contentType?: string; size: number }[];
    })
  | (EntryBase & {
      channel: "sms";
      providerId: string;
      from: string;
      to: string;
      body: string;
      segments: number;
      encoding: string;
      status: string;
    })
  | (EntryBase & {
      channel: "push";
      urgency: string;
      ttl: number;
      topic: string | null;
      title: string | null;
      body: string | null;
      url: string | null;
      payload: string;
    });

export interface OutboxSourceStatus {
  simulator: SourceId;
  label: string;
  channel: Channel;
  url: string;
  ok: boolean;
  total: number;
  error: string | null;
}

export type SandboxOutbox =
  { running: false; mode: string } | { running: true; sources: OutboxSourceStatus[]; entries: OutboxEntry[]; limit: number };

const FETCH_TIMEOUT_MS = 3000;

async function readSource(
  source: (typeof OUTBOX_SOURCES)[number],
  url: string,
  limit: number,
): Promise<{ total: number; entries: OutboxEntry[] }> {
  const res = await fetch(`${url}/__sim/outbox?limit=${limit}`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`answered HTTP ${res.status}`);
  const body: unknown = await res.json();
  const base = { simulator: source.simulator, source: source.label, messageId: null };
  if (source.channel === "email") {
    const l = listingSchemas.email.parse(body);
    return {
      total: l.total,
      entries: l.emails.map((e) => ({
        ...base,
        key: `${source.simulator}:${e.id}`,
        channel: "email",
        providerId: e.id,
        idempotencyKey: e.key,
        receivedAt: e.receivedAt,
        from: e.from,
        to: e.to,
        subject: e.subject,
        html: e.html,
        text: e.text,
        attachments: e.attachments,
      })),
    };
  }
  if (source.channel === "sms") {
    const l = listingSchemas.sms.parse(body);
    return {
      total: l.total,
      entries: l.messages.map((m) => ({
        ...base,
        key: `${source.simulator}:${m.sid}`,
        channel: "sms",
        providerId: m.sid,
        receivedAt: m.createdAt,
        from: m.from,
        to: m.to,
        body: m.body,
        segments: m.numSegments,
        encoding: m.encoding,
        status: m.status,
      })),
    };
  }
  const l = listingSchemas.push.parse(body);
  return {
    total: l.total,
    entries: l.received.map((p, i) => {
      let parsed: z.infer<typeof pushPayloadSchema> = {};
      try {
        parsed = pushPayloadSchema.catch({}).parse(JSON.parse(p.payload));
      } catch {
        // Not JSON: shown as it arrived.
      }
      return {
        ...base,
        key: `${source.simulator}:${l.total - i}`,
        channel: "push",
        receivedAt: p.receivedAt,
        urgency: p.urgency,
        ttl: p.ttl,
        topic: p.topic,
        title: parsed.title ?? null,
        body: parsed.body ?? null,
        url: parsed.url ?? null,
        payload: p.payload,
      };
    }),
  };
}

/** What the sandbox's simulators received, newest first (at most `limit` in all); honest when none run. */
export async function readSandboxOutbox(ctx: HubContext, limit = 30): Promise<SandboxOutbox> {
  if (!ctx.config.simulators) return { running: false, mode: ctx.config.mode };
  const results = await Promise.all(
    OUTBOX_SOURCES.map(async (source) => {
      const url = sandboxSimulatorUrl(ctx.config, source.simulator);
      if (!url) {
        return {
          status: { ...source, url: "", ok: false, total: 0, error: "not registered in simulators/index.ts" },
          entries: [] as OutboxEntry[],
        };
      }
      try {
        const r = await readSource(source, url, limit);
        return { status: { ...source, url, ok: true, total: r.total, error: null }, entries: r.entries };
      } catch (err) {
        const error =
          err instanceof z.ZodError
            ? "answered in an unexpected shape"
            : err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")
              ? `did not answer within ${FETCH_TIMEOUT_MS / 1000} s`
              : `could not be reached (${err instanceof Error ? err.message : String(err)})`;
        ctx.log.warn({ err, simulator: source.simulator }, "sandbox outbox: simulator not readable");
        return { status: { ...source, url, ok: false, total: 0, error }, entries: [] as OutboxEntry[] };
      }
    }),
  );
  const entries = results
    .flatMap((r) => r.entries)
    .sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt))
    .slice(0, limit);
  await linkMessages(ctx, entries);
  return { running: true, sources: results.map((r) => r.status), entries, limit };
}

/** The hub's message behind each entry: emails by the idempotency key they carried, emails and SMS by the provider's id. */
async function linkMessages(ctx: HubContext, entries: OutboxEntry[]): Promise<void> {
  const keys = entries.flatMap((e) => (e.channel === "email" && e.idempotencyKey ? [e.idempotencyKey] : []));
  const providerIds = entries.flatMap((e) => (e.channel === "push" ? [] : [e.providerId]));
  if (keys.length === 0 && providerIds.length === 0) return;
  const rows = await ctx.db
    .select({ id: messages.id, idempotencyKey: messages.idempotencyKey, providerMessageId: messages.providerMessageId })
    .from(messages)
    .where(
      or(
        keys.length ? inArray(messages.idempotencyKey, keys) : undefined,
        providerIds.length ? inArray(messages.providerMessageId, providerIds) : undefined,
      ),
    );
  const byKey = new Map(rows.map((r) => [r.idempotencyKey, r.id]));
  const byProviderId = new Map(rows.flatMap((r) => (r.providerMessageId ? [[r.providerMessageId, r.id] as const] : [])));
  for (const e of entries) {
    if (e.channel === "push") continue;
    e.messageId =
      (e.channel === "email" && e.idempotencyKey ? byKey.get(e.idempotencyKey) : undefined) ??
      byProviderId.get(e.providerId) ??
      null;
  }
}
