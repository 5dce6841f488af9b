// The console's reads of messaging: the filtered messages log and one
// message's timeline (attempts + status/provider events), as plain data.
import { and, asc, desc, eq, inArray, isNotNull, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { couples, messageAttempts, messageEvents, messages, providerHealth, suppliers } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { describeProviders, type ProviderDescription } from "./registry.server";
import { channelSchema, messageStatusSchema } from "./types";

const FILTER_KEYS = ["channel", "status", "provider", "recipient", "couple", "supplier"] as const;

export const messageFiltersSchema = z.object({
  channel: channelSchema.optional(),
  status: messageStatusSchema.optional(),
  provider: z.string().max(50, "must be at most 50 characters").optional(),
  recipient: z.string().max(320, "must be at most 320 characters").optional(),
  couple: z.uuid({ error: "must be a couple's id" }).optional(),
  supplier: z.uuid({ error: "must be a supplier's id" }).optional(),
});
export type MessageFilters = z.infer<typeof messageFiltersSchema>;

export type MessageFilterErrors = Partial<Record<(typeof FILTER_KEYS)[number], string>>;

export type ParsedMessageFilters =
  | { ok: true; filters: MessageFilters }
  | { ok: false; message: string; errors: MessageFilterErrors; raw: Partial<Record<(typeof FILTER_KEYS)[number], string>> };

/** The log's query string: empty values mean "any"; anything else must be valid (the console answers 400 otherwise). */
export function parseMessageFilters(params: URLSearchParams): ParsedMessageFilters {
  const raw: Partial<Record<(typeof FILTER_KEYS)[number], string>> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k)?.trim();
    if (v) raw[k] = v;
  }
  const parsed = messageFiltersSchema.safeParse(raw);
  if (parsed.success) return { ok: true, filters: parsed.data };
  const errors: MessageFilterErrors = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (typeof key === "string" && (FILTER_KEYS as readonly string[]).includes(key)) {
      const k = key as (typeof FILTER_KEYS)[number];
      errors[k] ??= k === "channel" || k === "status" ? `must be one of: ${optionsOf(k).join(", ")}` : issue.message;
    }
  }
  const message = `These filters are not valid: ${Object.entries(errors)
    .map(([k, m]) => `${k} ${m}`)
    .join("; ")}.`;
  return { ok: false, message, errors, raw };
}

const optionsOf = (k: "channel" | "status"): readonly string[] =>
  k === "channel" ? channelSchema.options : messageStatusSchema.options;

export async function listMessages(db: DbOrTx, f: MessageFilters, limit = 100) {
  const where: SQL[] = [];
  if (f.channel) where.push(eq(messages.channel, f.channel));
  if (f.status) where.push(eq(messages.status, f.status));
  if (f.provider) where.push(eq(messages.provider, f.provider));
  if (f.recipient) where.push(eq(messages.recipient, f.recipient.toLowerCase()));
  if (f.couple) where.push(eq(messages.coupleId, f.couple));
  if (f.supplier) where.push(eq(messages.supplierId, f.supplier));
  const rows = await db
    .select({
      id: messages.id,
      recipient: messages.recipient,
      channel: messages.channel,
      template: messages.template,
      status: messages.status,
      provider: messages.provider,
      coupleId: messages.coupleId,
      coupleName: couples.displayName,
      supplierId: messages.supplierId,
      supplierName: suppliers.name,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .leftJoin(couples, eq(couples.id, messages.coupleId))
    .leftJoin(suppliers, eq(suppliers.id, messages.supplierId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(messages.createdAt))
    .limit(limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

/**
 * The couples and suppliers the log can be filtered by: those that have messages (bounded), plus the
 * ones currently selected, by name.
 */
export async function messageFilterChoices(db: DbOrTx, selected: { couple?: string; supplier?: string }, limit = 300) {
  const [coupleRows, supplierRows] = await Promise.all([
    db
      .select({ id: couples.id, name: couples.displayName })
      .from(couples)
      .where(
        selected.couple
          ? sql`${couples.id} = ${selected.couple} or exists (select 1 from ${messages} where ${messages.coupleId} = ${couples.id})`
          : sql`exists (select 1 from ${messages} where ${messages.coupleId} = ${couples.id})`,
      )
      .orderBy(asc(couples.displayName))
      .limit(limit),
    db
      .select({ id: suppliers.id, name: suppliers.name })
      .from(suppliers)
      .where(
        selected.supplier
          ? sql`${suppliers.id} = ${selected.supplier} or exists (select 1 from ${messages} where ${messages.supplierId} = ${suppliers.id})`
          : sql`exists (select 1 from ${messages} where ${messages.supplierId} = ${suppliers.id})`,
      )
      .orderBy(asc(suppliers.name))
      .limit(limit),
  ]);
  return { couples: coupleRows, suppliers: supplierRows };
}

export async function getMessageTimeline(db: DbOrTx, id: string) {
  if (!z.uuid().safeParse(id).success) return null;
  const [message] = await db.select().from(messages).where(eq(messages.id, id));
  if (!message) return null;
  const [attempts, events] = await Promise.all([
    db.select().from(messageAttempts).where(eq(messageAttempts.messageId, id)).orderBy(asc(messageAttempts.attemptNo)),
    db.select().from(messageEvents).where(eq(messageEvents.messageId, id)).orderBy(asc(messageEvents.id)),
  ]);
  return {
    message: {
      id: message.id,
      recipient: message.recipient,
      channel: message.channel,
      template: message.template,
      status: message.status,
      statusReason: message.statusReason,
      provider: message.provider,
      providerMessageId: message.providerMessageId,
      priority: message.priority,
      critical: message.critical,
      createdAt: message.createdAt.toISOString(),
      sentAt: message.sentAt?.toISOString() ?? null,
    },
    attempts: attempts.map((a) => ({
      id: a.id,
      attemptNo: a.attemptNo,
      provider: a.provider,
      status: a.status,
      httpStatus: a.httpStatus,
      error: a.error,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.finishedAt ? a.finishedAt.getTime() - a.startedAt.getTime() : null,
    })),
    events: events.map((e) => ({
      id: e.id,
      type: e.type,
      status: e.status,
      provider: e.provider,
      source: e.source,
      detail: e.detail,
      occurredAt: e.occurredAt.toISOString(),
    })),
  };
}

// ------------------------------------------------------------ provider health

/** How many of a provider's latest finished attempts the "recent success rate" looks at (the breakers' own window). */
export const RECENT_ATTEMPTS = 50;

export type CircuitView = "closed" | "open" | "half_open" | "isolated" | "never_used";

/** What the registry says of the provider, plus what its deliveries recorded. */
export interface ProviderHealthView extends Pick<
  ProviderDescription,
  "id" | "channel" | "enabled" | "configured" | "priority" | "credentials" | "apiRoot" | "settingsError" | "breakerThreshold"
> {
  /** As the workers last recorded it in provider_health ("never_used": no row yet). */
  circuit: CircuitView;
  /** An open circuit is probed (half-open) by the first delivery after this. */
  probeFrom: string | null;
  consecutiveFailures: number;
  /** Lifetime counts in provider_health. */
  successes: number;
  failures: number;
  recent: { attempts: number; ok: number; rate: number | null };
  lastError: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  openedAt: string | null;
  updatedAt: string | null;
  /** The provider's Retry-After: no calls before this (from the latest rate-limited attempt), when still in the future. */
  blockedUntil: string | null;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/**
 * Every registered provider with its settings and health, from the database only (provider_health as the
 * workers record it, message_attempts for the recent window and Retry-After), so it is right whichever process asks.
 */
export async function listProviderHealth(ctx: HubContext, now = new Date()): Promise<ProviderHealthView[]> {
  const db = ctx.db;
  const providers = await describeProviders(ctx);
  const ids = providers.map((p) => p.id);
  if (ids.length === 0) return [];
  const idList = sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
  const [healthRows, recentRows, blockedRows] = await Promise.all([
    db.select().from(providerHealth).where(inArray(providerHealth.provider, ids)),
    db.execute<{ provider: string; attempts: number; ok: number }>(sql`
      select ids.provider, count(a.ok)::int as attempts, (count(*) filter (where a.ok))::int as ok
        from unnest(array[${idList}]::text[]) as ids(provider)
        left join lateral (
          -- A message's own rejection (the attempt that failed the message) is the provider working, as for the breaker.
          select a.status = 'accepted'
                 or (a.status = 'failed' and exists (
                       select 1 from ${messageEvents} e
                        where e.message_id = a.message_id and e.attempt_id = a.id and e.status = 'failed')) as ok
            from ${messageAttempts} a
           where a.provider = ids.provider and a.status in ('accepted', 'failed', 'ambiguous', 'rate_limited')
           order by a.started_at desc
           limit ${RECENT_ATTEMPTS}
        ) a on true
       group by ids.provider`),
    db
      .select({
        provider: messageAttempts.provider,
        until: sql<
          string | null
        >`max(${messageAttempts.finishedAt} + ${messageAttempts.retryAfterMs} * interval '1 millisecond')`,
      })
      .from(messageAttempts)
      .where(
        and(
          inArray(messageAttempts.provider, ids),
          eq(messageAttempts.status, "rate_limited"),
          isNotNull(messageAttempts.retryAfterMs),
          sql`${messageAttempts.startedAt} > ${now.toISOString()}::timestamptz - interval '1 day'`,
        ),
      )
      .groupBy(messageAttempts.provider),
  ]);
  const health = new Map(healthRows.map((r) => [r.provider, r]));
  const recent = new Map(recentRows.rows.map((r) => [r.provider, r]));
  const blocked = new Map(blockedRows.map((r) => [r.provider, r.until]));
  return providers.map((p) => {
    const h = health.get(p.id);
    const r = recent.get(p.id);
    const until = blocked.get(p.id);
    const blockedUntil = until && new Date(until).getTime() > now.getTime() ? iso(until) : null;
    const circuit: CircuitView = h ? h.circuitState : "never_used";
    return {
      ...p,
      circuit,
      probeFrom: circuit === "open" && h?.openedAt ? new Date(h.openedAt.getTime() + p.halfOpenAfterMs).toISOString() : null,
      consecutiveFailures: h?.consecutiveFailures ?? 0,
      successes: h?.successes ?? 0,
      failures: h?.failures ?? 0,
      recent: { attempts: r?.attempts ?? 0, ok: r?.ok ?? 0, rate: r?.attempts ? r.ok / r.attempts : null },
      lastError: h?.lastError ?? null,
      lastSuccessAt: iso(h?.lastSuccessAt),
      lastFailureAt: iso(h?.lastFailureAt),
      openedAt: iso(h?.openedAt),
      updatedAt: iso(h?.updatedAt),
      blockedUntil,
    };
  });
}
