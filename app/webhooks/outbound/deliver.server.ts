// The delivery job for one (endpoint, couple): send its pending deliveries in
// seq order, one at a time. A failure records the attempt, schedules the next
// one (Svix-like schedule with jitter) and holds back that couple's later
// deliveries; other couples have their own job and queue and keep flowing.
// A 410 disables the endpoint at once; a failing streak longer than the
// configured period disables it and tells its owner.
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Dispatcher } from "undici";
import type { Db, DbOrTx } from "../../db.server";
import type { Vault } from "../../crypto/secrets.server";
import type { Logger } from "../../log.server";
import { recordAudit, systemActor } from "../../audit/audit.server";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../../db/schema";
import type { WebhooksOutConfig } from "./config";
import { signingSecrets, type EndpointRow } from "./endpoints.server";
import { signedHeaders } from "./signing";
import { dispatcherFor, postWebhook, type AttemptResult } from "./http.server";
import { WEDDING_DAY_CALL_POLICY, weddingDayOf } from "../../wedding-day/mode.server";
import { enqueueDeliveryQueue } from "./queue.server";
import { notifyEndpointDisabled } from "./notify.server";

export interface DeliverDeps {
  db: Db;
  vault: Vault;
  config: { webhooksOut: WebhooksOutConfig };
  log?: Logger;
  /** Tests pass a dispatcher with an injected resolver. */
  dispatcher?: Dispatcher;
  random?: () => number;
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const BATCH = 50;

export function retryDelayMs(
  config: WebhooksOutConfig,
  attemptsInRound: number,
  random: () => number = Math.random,
): number | null {
  const base = config.retryScheduleMs[attemptsInRound];
  if (base === undefined) return null;
  return Math.max(0, Math.round(base * (1 + config.jitter * (2 * random() - 1))));
}

/** Attempts made since the last replay (a replay starts the schedule again). */
function attemptsInRound(d: DeliveryRow, attempts: number): number {
  const base = typeof d.result?.scheduleBase === "number" ? d.result.scheduleBase : 0;
  return attempts - base;
}

export interface QueueRunOutcome {
  delivered: number;
  failedAttempts: number;
  /** Set when the head of the queue waits for a retry later than the job can wait. */
  rescheduledAt?: Date;
  stopped?: "endpoint_disabled" | "empty";
}

export async function runDeliveryQueue(deps: DeliverDeps, endpointId: string, coupleId: string | null): Promise<QueueRunOutcome> {
  const out: QueueRunOutcome = { delivered: 0, failedAttempts: 0 };
  const cfg = deps.config.webhooksOut;
  const dispatcher = deps.dispatcher ?? dispatcherFor(cfg);
  const weddingDay = coupleId ? ((await weddingDayOf(deps.db, coupleId))?.state.active ?? false) : false;
  for (;;) {
    const [endpoint] = await deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId));
    if (!endpoint || endpoint.direction !== "out" || endpoint.status !== "active")
      return { ...out, stopped: "endpoint_disabled" };
    const batch = await deps.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpointId),
          coupleId ? eq(webhookDeliveries.coupleId, coupleId) : isNull(webhookDeliveries.coupleId),
          eq(webhookDeliveries.status, "pending"),
        ),
      )
      .orderBy(asc(webhookDeliveries.seq), asc(webhookDeliveries.createdAt))
      .limit(BATCH);
    if (batch.length === 0) return { ...out, stopped: "empty" };
    let failed = false;
    for (const d of batch) {
      const wait = d.nextAttemptAt ? d.nextAttemptAt.getTime() - Date.now() : 0;
      if (wait > cfg.inlineWaitMs) {
        // graphile-worker holds this job's queue until then; later deliveries of the couple wait behind it.
        await enqueueDeliveryQueue(deps.db, endpointId, coupleId, { runAt: d.nextAttemptAt! });
        return { ...out, rescheduledAt: d.nextAttemptAt! };
      }
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const result = await attempt(deps, dispatcher, endpoint, d, weddingDay);
      if (result.outcome === "succeeded") {
        out.delivered++;
        continue;
      }
      out.failedAttempts++;
      failed = true;
      break;
    }
    // After a failure re-read: the endpoint may be disabled now, and the head has its next attempt time.
    if (!failed && batch.length < BATCH) return { ...out, stopped: "empty" };
  }
}

/** A wedding-day couple's first retries come within minutes, not hours (then the normal schedule). */
export const WEDDING_DAY_RETRY_MS = [1_000, 5_000, 15_000, 30_000, 60_000];

/** The wait before the next attempt (null: no more); a wedding-day couple's first retries are capped short. */
export function retryDelayFor(
  cfg: WebhooksOutConfig,
  round: number,
  weddingDay: boolean,
  random: () => number = Math.random,
): number | null {
  const normal = retryDelayMs(cfg, round, random);
  const fast = WEDDING_DAY_RETRY_MS[round - 1];
  if (!weddingDay || normal === null || round > WEDDING_DAY_CALL_POLICY.retries || fast === undefined) return normal;
  return Math.min(normal, Math.round(fast * cfg.timeScale));
}

/**
 * The brief's wedding-day policy for one attempt: a longer response timeout, and
 * up to `connectionRetries` immediate reconnects when the connection itself
 * failed (nothing was received, so no duplicate is possible).
 */
export async function postWithPolicy(
  dispatcher: Dispatcher,
  cfg: WebhooksOutConfig,
  url: string,
  headers: Record<string, string>,
  body: string,
  weddingDay: boolean,
): Promise<AttemptResult & { reconnects: number }> {
  if (!weddingDay) return { ...(await postWebhook(dispatcher, cfg, url, headers, body)), reconnects: 0 };
  const policyCfg = { ...cfg, responseTimeoutMs: Math.max(cfg.responseTimeoutMs, WEDDING_DAY_CALL_POLICY.timeoutMs) };
  let result = await postWebhook(dispatcher, policyCfg, url, headers, body);
  let reconnects = 0;
  while (result.connectionFailed && reconnects < WEDDING_DAY_CALL_POLICY.connectionRetries) {
    reconnects++;
    await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** reconnects) * cfg.timeScale));
    result = await postWebhook(dispatcher, policyCfg, url, headers, body);
  }
  return reconnects > 0 && result.error
    ? { ...result, error: `${result.error} (after ${reconnects} reconnects)`, reconnects }
    : { ...result, reconnects };
}

async function attempt(
  deps: DeliverDeps,
  dispatcher: Dispatcher,
  endpoint: EndpointRow,
  d: DeliveryRow,
  weddingDay = false,
): Promise<AttemptResult> {
  const cfg = deps.config.webhooksOut;
  const startedAt = new Date();
  const n = d.attempts + 1;
  const body = d.body ?? "";
  const headers = signedHeaders(
    signingSecrets(deps.vault, endpoint, startedAt),
    d.id,
    Math.floor(startedAt.getTime() / 1000),
    body,
  );
  const result = await postWithPolicy(dispatcher, cfg, endpoint.url ?? "", headers, body, weddingDay);
  await deps.db.transaction(async (tx) => {
    // Losing this record in a crash only means the delivery is sent again with the same webhook-id
    // (at-least-once, which receivers handle), so it need not wait for the WAL flush.
    await tx.execute(sql`set local synchronous_commit = off`);
    await tx.insert(webhookAttempts).values({
      deliveryId: d.id,
      attempt: n,
      startedAt,
      durationMs: result.durationMs,
      httpStatus: result.httpStatus,
      outcome: result.outcome,
      error: result.error,
      responseExcerpt: result.responseExcerpt,
    });
    if (result.outcome === "succeeded") {
      await tx
        .update(webhookDeliveries)
        .set({
          status: "delivered",
          attempts: n,
          deliveredAt: new Date(),
          nextAttemptAt: null,
          lastError: null,
          updatedAt: new Date(),
        })
        .where(eq(webhookDeliveries.id, d.id));
      if (endpoint.failingSince)
        await tx.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, endpoint.id));
      return;
    }
    const delay = retryDelayFor(cfg, attemptsInRound(d, n), weddingDay, deps.random);
    await tx
      .update(webhookDeliveries)
      .set({
        status: delay === null ? "failed" : "pending",
        attempts: n,
        nextAttemptAt: delay === null ? null : new Date(Date.now() + delay),
        lastError: result.error,
        updatedAt: new Date(),
      })
      .where(eq(webhookDeliveries.id, d.id));
    const [streak] = await tx
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${startedAt.toISOString()}::timestamptz)` })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning({ failingSince: webhookEndpoints.failingSince });
    const since = streak?.failingSince ?? startedAt;
    if (result.httpStatus === 410) await disableEndpoint(tx, endpoint, "The receiver answered 410 Gone");
    else if (Date.now() - since.getTime() >= cfg.disableAfterMs)
      await disableEndpoint(tx, endpoint, `Every attempt failed since ${since.toISOString()}`);
  });
  deps.log?.info(
    {
      endpointId: endpoint.id,
      deliveryId: d.id,
      attempt: n,
      outcome: result.outcome,
      status: result.httpStatus,
      ms: result.durationMs,
    },
    "webhook attempt",
  );
  return result;
}

export async function disableEndpoint(tx: DbOrTx, endpoint: EndpointRow, reason: string): Promise<boolean> {
  const disabledAt = new Date();
  const [row] = await tx
    .update(webhookEndpoints)
    .set({ status: "disabled", disabledAt, disabledReason: reason, updatedAt: disabledAt })
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, "active")))
    .returning({ id: webhookEndpoints.id });
  if (!row) return false;
  await recordAudit(tx, systemActor("webhooks"), {
    action: "webhook_endpoint.disabled",
    entityType: "webhook_endpoint",
    entityId: endpoint.id,
    before: { status: "active" },
    after: { status: "disabled", reason },
  });
  await notifyEndpointDisabled(tx, endpoint, reason, disabledAt);
  return true;
}
