// The delivery engine: one run of the deliver_message job. For each provider
// of the channel in priority order, skipping those whose circuit is open or
// that asked us to wait, it writes the attempt row BEFORE the call and the
// outcome AFTER it, so a worker killed mid-call leaves an unfinished attempt
// that the next run sees. The outcome decides:
//   accepted                     -> sent (done)
//   failed / scope "message"     -> failed (no provider can do better)
//   failed / scope "provider"    -> next provider, immediately (failover)
//   rate_limited                 -> remember Retry-After, next provider
//   ambiguous + idempotent       -> same provider, same key, up to AMBIGUOUS_RETRIES more
//   ambiguous + not idempotent   -> "sent", unconfirmed: a second provider could deliver it twice
// When no provider took it the message stays queued and the job re-queues
// itself for when a circuit half-opens or a Retry-After ends; it only fails for
// good after GIVE_UP_AFTER_MS, so an outage never loses or double-sends mail.
import { and, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { messageAttempts, messageEvents, messages } from "../../db/schema";
import type { HubContext } from "../runtime/context.server";
import { enqueueJob } from "../jobs/enqueue.server";
import { available, healthOf, isBrokenCircuit, probeInMs, ProviderFailure, recordOutcome, takeToken } from "./health.server";
import { providersFor, type ConfiguredProvider } from "./registry.server";
import { deliverJobKey } from "./send.server";
import { renderEmail, renderSummary } from "./templates/render.server";
import { addTimeline, setStatus } from "./timeline.server";
import type { OutboundMessage, RenderedContent, SendResult } from "./types";

export const AMBIGUOUS_RETRIES = 2;
export const GIVE_UP_AFTER_MS = 72 * 3600_000;
const MIN_RESCHEDULE_MS = 250;
const MAX_RESCHEDULE_MS = 60_000;
const DEFAULT_FROM = { email: "notifications@wedsync.example", name: "WedSync" };

type MessageRow = typeof messages.$inferSelect;

export type DeliverOutcome =
  | { result: "sent"; provider: string; attempts: number }
  | { result: "failed" | "suppressed" | "skipped"; reason: string }
  | { result: "rescheduled"; inMs: number; reason: string };

async function render(row: MessageRow, from: { email: string; name?: string }): Promise<RenderedContent> {
  if (row.channel === "email") {
    const e = await renderEmail(row.template, row.data);
    return {
      channel: "email",
      from,
      to: row.recipient,
      subject: e.subject,
      html: e.html,
      text: e.text,
      attachments: e.attachments,
    };
  }
  const s = renderSummary(row.template, row.data);
  if (row.channel === "sms") return { channel: "sms", to: row.recipient, body: s.body };
  return { channel: "push", userId: row.recipient, payload: { title: s.title, body: s.body, tag: row.template } };
}

/** Runs one call with the provider's timeout; a timeout is ambiguous (the request may have gone out). */
async function callWithTimeout(
  cp: ConfiguredProvider,
  message: OutboundMessage,
  attempt: { attemptId: string; attemptNo: number; requestKey: string },
): Promise<SendResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SendResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ outcome: "ambiguous", error: `no answer within ${cp.settings.timeoutMs} ms` });
    }, cp.settings.timeoutMs);
  });
  try {
    return await Promise.race([
      cp.provider
        .send(message, { ...attempt, signal: controller.signal })
        .catch((err: unknown): SendResult => ({ outcome: "ambiguous", error: err instanceof Error ? err.message : String(err) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The message with what the run needs to know about it, in one round trip: an active suppression of its
 * recipient (a bounce may have arrived after it was queued), its last attempt number, and its first
 * attempt still marked "sending" (a worker died during that call). The subqueries name the outer table
 * themselves: drizzle leaves columns unqualified in a single-table select, where they would bind to the inner table.
 */
async function load(db: DbOrTx, messageId: string) {
  const [found] = await db
    .select({
      row: messages,
      suppressedFor: sql<string | null>`(select s.reason from suppressions s
        where s.channel = messages.channel and s.address = messages.recipient and s.lifted_at is null limit 1)`,
      lastAttemptNo: sql<number | null>`(select max(a.attempt_no) from message_attempts a where a.message_id = messages.id)`,
      orphan: sql<{ id: string; provider: string } | null>`(select json_build_object('id', a.id, 'provider', a.provider)
        from message_attempts a where a.message_id = messages.id and a.status = 'sending' order by a.attempt_no limit 1)`,
      ambiguousAt: sql<string[]>`array(select distinct a.provider from message_attempts a
        where a.message_id = messages.id and a.status = 'ambiguous')`,
    })
    .from(messages)
    .where(eq(messages.id, messageId));
  return found;
}

/**
 * Writes the attempt row (status "sending") before the call and counts it on the message; the message's own
 * "sending" status and its timeline entry go in the same statement when this is the run's first attempt.
 */
async function startAttempt(
  db: DbOrTx,
  row: MessageRow,
  a: { attemptNo: number; provider: string; workerId: string; markSending: boolean },
): Promise<string> {
  const now = new Date().toISOString();
  const res = await db.execute<{ id: string }>(sql`
    with attempt as (
      insert into message_attempts (message_id, attempt_no, provider, request_key, worker_id)
      values (${row.id}, ${a.attemptNo}, ${a.provider}, ${row.idempotencyKey}, ${a.workerId})
      returning id
    ), msg as (
      update messages
      set attempt_count = ${a.attemptNo}, updated_at = ${now}::timestamptz,
          status = case when ${a.markSending}::boolean then 'sending' else status end
      where id = ${row.id}
    ), ev as (
      insert into message_events (message_id, type, status, source, detail, occurred_at)
      select ${row.id}, 'status', 'sending', 'hub', '{}'::jsonb, ${now}::timestamptz where ${a.markSending}::boolean
      on conflict do nothing
    )
    select id from attempt`);
  const id = res.rows[0]?.id;
  if (!id) throw new Error("attempt row not written");
  return id;
}

/** An accepted attempt: the attempt's outcome, the message "sent" and its timeline entry, in one statement. */
async function finishAccepted(
  db: DbOrTx,
  row: MessageRow,
  a: { attemptId: string; provider: string; providerMessageId: string | null; httpStatus: number | null },
): Promise<void> {
  const now = new Date().toISOString();
  await db.execute(sql`
    with attempt as (
      update message_attempts
      set status = 'accepted', provider_message_id = ${a.providerMessageId}, http_status = ${a.httpStatus}::int,
          error = null, retry_after_ms = null, finished_at = ${now}::timestamptz
      where id = ${a.attemptId}
    ), msg as (
      update messages
      set status = 'sent', status_reason = null, provider = ${a.provider}, provider_message_id = ${a.providerMessageId},
          sent_at = coalesce(sent_at, now()), updated_at = ${now}::timestamptz
      where id = ${row.id}
    )
    insert into message_events (message_id, type, status, provider, attempt_id, source, detail, occurred_at)
    values (${row.id}, 'status', 'sent', ${a.provider}, ${a.attemptId}, 'hub', '{}'::jsonb, ${now}::timestamptz)
    on conflict do nothing`);
}

export async function deliverMessage(ctx: HubContext, messageId: string): Promise<DeliverOutcome> {
  const db = ctx.db;
  const found = await load(db, messageId);
  if (!found) return { result: "skipped", reason: "message not found" };
  const row = found.row;
  if (row.status !== "queued" && row.status !== "sending") return { result: "skipped", reason: `already ${row.status}` };

  // A bounce may have arrived after it was queued.
  if (found.suppressedFor) {
    await setStatus(db, row.id, "suppressed", { reason: `suppressed: ${found.suppressedFor}` });
    return { result: "suppressed", reason: found.suppressedFor };
  }

  const providers = await providersFor(ctx, row.channel);
  if (providers.length === 0) return reschedule(ctx, row, 30_000, `no ${row.channel} provider is configured`);

  let attemptNo = found.lastAttemptNo ?? 0;

  // An attempt left "sending" means a worker died during the call: it may have been delivered.
  const orphan = found.orphan;
  let preferred: string | null = null;
  if (orphan) {
    await db
      .update(messageAttempts)
      .set({ status: "ambiguous", error: "the worker stopped during the call", finishedAt: new Date() })
      .where(eq(messageAttempts.id, orphan.id));
    await addTimeline(db, {
      messageId: row.id,
      type: "attempt.ambiguous",
      provider: orphan.provider,
      attemptId: orphan.id,
      detail: { error: "worker stopped during the call" },
    });
    const cp = providers.find((p) => p.provider.id === orphan.provider);
    if (cp && !cp.provider.idempotent) {
      await markUnconfirmed(ctx, row, cp, { reason: "unconfirmed: the worker stopped during the call" });
      return { result: "sent", provider: orphan.provider, attempts: attemptNo };
    }
    preferred = orphan.provider;
  }

  // The message goes to "sending" with its first attempt row (one round trip); when no provider can be
  // tried, or rendering throws before the first call, it is written on its own.
  let sendingPending = row.status !== "sending";
  const flushSending = async () => {
    if (!sendingPending) return;
    sendingPending = false;
    await setStatus(db, row.id, "sending", {});
  };
  const ordered = preferred
    ? [...providers.filter((p) => p.provider.id === preferred), ...providers.filter((p) => p.provider.id !== preferred)]
    : providers;

  let waitMs = MAX_RESCHEDULE_MS;
  const problems: string[] = [];
  let lastFailedProvider: string | null = null;
  for (const cp of ordered) {
    const id = cp.provider.id;
    // Sent again after an unconfirmed send: never through a provider that may already have it.
    if (!cp.provider.idempotent && found.ambiguousAt.includes(id)) {
      problems.push(`${id}: may already have it (unconfirmed)`);
      continue;
    }
    const health = healthOf(ctx, id, row.channel, cp.settings);
    if (!available(health)) {
      waitMs = Math.min(waitMs, Math.max(health.blockedUntil - Date.now(), probeInMs(health)));
      problems.push(`${id}: unavailable`);
      continue;
    }
    const tokenWait = takeToken(health, cp.settings);
    if (tokenWait > 0) {
      waitMs = Math.min(waitMs, tokenWait);
      problems.push(`${id}: over its rate limit`);
      continue;
    }
    const content = await render(row, {
      email: cp.settings.fromEmail ?? DEFAULT_FROM.email,
      name: cp.settings.fromName ?? DEFAULT_FROM.name,
    }).catch(async (err: unknown) => {
      await flushSending();
      throw err;
    });
    const message: OutboundMessage = {
      id: row.id,
      channel: row.channel,
      recipient: row.recipient,
      template: row.template,
      idempotencyKey: row.idempotencyKey,
      priority: row.priority,
      critical: row.critical,
      content,
    };
    if (lastFailedProvider)
      await addTimeline(db, { messageId: row.id, type: "failover", provider: id, detail: { from: lastFailedProvider, to: id } });

    for (let tries = 0; tries <= AMBIGUOUS_RETRIES; tries++) {
      attemptNo++;
      const attempt = {
        id: await startAttempt(db, row, { attemptNo, provider: id, workerId: ctx.instanceId, markSending: sendingPending }),
      };
      sendingPending = false;
      let result: SendResult;
      let probeBusy = false;
      try {
        // Only provider-side failures count against the circuit; a message's own 4xx does not.
        result = await health.breaker.execute(async () => {
          const r = await callWithTimeout(cp, message, { attemptId: attempt.id, attemptNo, requestKey: row.idempotencyKey });
          if ((r.outcome === "failed" && r.scope === "provider") || r.outcome === "ambiguous")
            throw Object.assign(new ProviderFailure(r.error), { result: r });
          return r;
        });
      } catch (err) {
        if (err instanceof ProviderFailure) result = (err as ProviderFailure & { result: SendResult }).result;
        else if (isBrokenCircuit(err)) {
          probeBusy = true;
          result = { outcome: "failed", scope: "provider", error: "circuit open (another worker's probe is in flight)" };
        } else throw err;
      }
      if (probeBusy) {
        // Nothing was sent: record the skip and move on without counting it against the provider.
        await db
          .update(messageAttempts)
          .set({ status: "skipped", error: "circuit open", finishedAt: new Date() })
          .where(eq(messageAttempts.id, attempt.id));
        waitMs = Math.min(waitMs, cp.settings.halfOpenAfterMs);
        problems.push(`${id}: circuit open`);
        break;
      }
      if (result.outcome === "accepted") {
        await finishAccepted(db, row, {
          attemptId: attempt.id,
          provider: id,
          providerMessageId: result.providerMessageId ?? null,
          httpStatus: "httpStatus" in result && typeof result.httpStatus === "number" ? result.httpStatus : null,
        });
        recordOutcome(ctx, id, row.channel, health, true);
        return { result: "sent", provider: id, attempts: attemptNo };
      }
      const errorText = result.error;
      await db
        .update(messageAttempts)
        .set({
          status: result.outcome,
          providerMessageId: null,
          httpStatus: "httpStatus" in result ? (result.httpStatus ?? null) : null,
          error: errorText.slice(0, 2000),
          retryAfterMs: result.outcome === "rate_limited" ? result.retryAfterMs : null,
          finishedAt: new Date(),
        })
        .where(eq(messageAttempts.id, attempt.id));
      recordOutcome(ctx, id, row.channel, health, result.outcome === "failed" && result.scope === "message", errorText);

      await addTimeline(db, {
        messageId: row.id,
        type: `attempt.${result.outcome}`,
        provider: id,
        attemptId: attempt.id,
        detail: { error: result.error },
      });
      if (result.outcome === "failed" && result.scope === "message") {
        await setStatus(db, row.id, "failed", { provider: id, attemptId: attempt.id, reason: result.error.slice(0, 500) });
        return { result: "failed", reason: result.error };
      }
      if (result.outcome === "ambiguous") {
        if (!cp.provider.idempotent) {
          await markUnconfirmed(ctx, row, cp, { attemptId: attempt.id, reason: `unconfirmed: ${result.error.slice(0, 300)}` });
          return { result: "sent", provider: id, attempts: attemptNo };
        }
        if (tries < AMBIGUOUS_RETRIES) {
          await new Promise((r) => setTimeout(r, 100 * (tries + 1)));
          continue; // same provider, same key: the provider's dedupe makes this safe
        }
      }
      if (result.outcome === "rate_limited") {
        health.blockedUntil = Date.now() + result.retryAfterMs;
        waitMs = Math.min(waitMs, result.retryAfterMs);
      } else {
        waitMs = Math.min(waitMs, cp.settings.halfOpenAfterMs);
      }
      problems.push(`${id}: ${result.error.slice(0, 200)}`);
      lastFailedProvider = id;
      break;
    }
  }
  await flushSending();
  return reschedule(ctx, row, waitMs, problems.join("; ") || "no provider available");
}

/**
 * "Sent, unconfirmed": the provider may or may not have it and cannot dedupe a second try. The status
 * says so; when the provider's settings ask for confirmation, a confirm_message job checks later for
 * one of its delivery events, and sends the message again elsewhere if none came.
 */
async function markUnconfirmed(
  ctx: HubContext,
  row: MessageRow,
  cp: ConfiguredProvider,
  patch: { attemptId?: string; reason: string },
): Promise<void> {
  const confirm = cp.settings.confirmWithinMs;
  await ctx.db.transaction(async (tx) => {
    await setStatus(tx, row.id, "sent", {
      provider: cp.provider.id,
      ...(patch.attemptId ? { attemptId: patch.attemptId } : {}),
      reason:
        confirm > 0
          ? `${patch.reason}; awaiting the provider's confirmation`
          : `${patch.reason}; not resent to avoid a duplicate`,
    });
    if (confirm > 0)
      await enqueueJob(
        tx,
        "confirm_message",
        { messageId: row.id, provider: cp.provider.id },
        { jobKey: `message-confirm:${row.id}`, runAt: new Date(Date.now() + confirm), forCouple: row.coupleId },
      );
  });
}

/**
 * The confirmation check: a delivery event from the provider (sent, delivered, bounced…) or a later status
 * settles it; with none, the message is queued again and the engine skips the provider that may have it.
 */
export async function confirmMessage(
  ctx: HubContext,
  messageId: string,
  provider: string,
): Promise<"confirmed" | "resent" | "skipped"> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(messages).where(eq(messages.id, messageId)).for("update");
    if (!row || row.status !== "sent" || row.provider !== provider) return "skipped";
    const [event] = await tx
      .select({ id: messageEvents.id })
      .from(messageEvents)
      .where(
        and(eq(messageEvents.messageId, messageId), eq(messageEvents.provider, provider), eq(messageEvents.source, "webhook")),
      )
      .limit(1);
    if (event) return "confirmed";
    await setStatus(tx, row.id, "queued", {
      reason: `${provider} never confirmed the unconfirmed send: sending it again through another provider`,
    });
    await enqueueJob(
      tx,
      "deliver_message",
      { messageId: row.id },
      { jobKey: deliverJobKey(row.id), priority: -row.priority, maxAttempts: 25, forCouple: row.coupleId },
    );
    return "resent";
  });
}

async function reschedule(ctx: HubContext, row: MessageRow, waitMs: number, reason: string): Promise<DeliverOutcome> {
  if (Date.now() - row.createdAt.getTime() > GIVE_UP_AFTER_MS) {
    await setStatus(ctx.db, row.id, "failed", { reason: `gave up after ${GIVE_UP_AFTER_MS / 3600_000} h: ${reason}` });
    return { result: "failed", reason };
  }
  const inMs = Math.round(Math.min(MAX_RESCHEDULE_MS, Math.max(MIN_RESCHEDULE_MS, waitMs)));
  await ctx.db.transaction(async (tx) => {
    await setStatus(tx, row.id, "queued", {
      reason: `waiting for a provider: ${reason}`.slice(0, 1000),
      detail: { retryInMs: inMs },
    });
    // Same job key: graphile-worker detaches the running job's key and queues this one.
    await enqueueJob(
      tx,
      "deliver_message",
      { messageId: row.id },
      {
        jobKey: deliverJobKey(row.id),
        runAt: new Date(Date.now() + inMs),
        priority: -row.priority,
        maxAttempts: 25,
        forCouple: row.coupleId,
      },
    );
  });
  return { result: "rescheduled", inMs, reason };
}
