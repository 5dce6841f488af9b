// Processing a stored inbound delivery (the process_inbound_webhook job):
// map the payload through the endpoint's published JSONata mapping and apply
// it through the API's write paths — a core-field change (updateCoreFields,
// source "webhook") or a client upsert keyed like the CRM import's
// (supplier, source, external id) in imported_records.
//
// Exactly once: the delivery row is locked FOR UPDATE and the write, the
// status "processed" and the attempt record commit in one transaction, so a
// second run of the job (a duplicate, a retry after a crash) finds it
// processed and does nothing. A failure is recorded in its own transaction;
// the next attempt is queued on our schedule (compressible for tests) and
// after the last one the delivery is "dead" (a dead letter, replayable).
import crypto from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx, Tx } from "../../db.server";
import type { HubContext } from "../../runtime/context.server";
import {
  coreFields,
  couples,
  importedRecords,
  mappings,
  supplierCouples,
  webhookAttempts,
  webhookDeliveries,
} from "../../../db/schema";
import { ConflictError, DomainError, NotFoundError } from "../../errors";
import { compileMapping, MappingEvaluationError, runMapping, type FieldErrors } from "../../mapping/engine";
import { activeMapping } from "../../mapping/store.server";
import type { WedsyncClient } from "../../mapping/targets";
import { CORE_FIELDS } from "../../core-fields/schema";
import { updateCoreFields } from "../../core-fields/write.server";
import { systemPrincipal } from "../../core-fields/principal";
import { recordHash } from "../../import/engine.server";
import { enqueueJob } from "../../jobs/enqueue.server";
import { recordAudit, type Actor } from "../../audit/audit.server";
import { APPLY_TARGET, getInboundEndpoint, type InboundEndpoint } from "./endpoints.server";
import { JOB_MAX_ATTEMPTS, PROCESS_TASK, processJobKey } from "./receive.server";
import { payloadOf } from "./schemes";

// ------------------------------------------------------------------ retry policy

export interface RetryPolicy {
  /** Attempts before a delivery is dead. */
  maxAttempts: number;
  /** Wait before attempt n+1 after attempt n failed (the last entry repeats). */
  delaysMs: number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  delaysMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000],
};
let retryPolicy: RetryPolicy = DEFAULT_RETRY_POLICY;

/** Tests compress the schedule (the policy is per process, like the worker that applies it). */
export function setInboundRetryPolicy(policy: RetryPolicy | null): void {
  retryPolicy = policy ?? DEFAULT_RETRY_POLICY;
}

function delayAfter(attempt: number): number {
  const base = retryPolicy.delaysMs[Math.min(attempt - 1, retryPolicy.delaysMs.length - 1)] ?? 0;
  // ±10% jitter so deliveries that failed together do not retry together.
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

// ------------------------------------------------------------------ errors

/** A failure of this delivery (mapping, validation, unknown couple): recorded, retried, then dead. */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly mappedOutput: unknown = null,
    readonly fields: FieldErrors | null = null,
  ) {
    super(message);
    this.name = "DeliveryFailure";
  }
}

const describeFieldErrors = (errors: FieldErrors) =>
  Object.entries(errors)
    .map(([field, messages]) => `${field} ${messages.join(", ")}`)
    .join("; ");

// ------------------------------------------------------------------ mapping

interface Mapped {
  output: Record<string, unknown>;
  mapping: { slug: string; version: number };
  coupleId: string | null;
}

async function mapDelivery(
  db: DbOrTx,
  endpoint: InboundEndpoint,
  body: string,
  headers: Record<string, string>,
): Promise<Mapped> {
  if (!endpoint.mappingId) throw new DeliveryFailure("This endpoint has no mapping: choose one in the console, then replay.");
  const [m] = await db.select({ slug: mappings.slug }).from(mappings).where(eq(mappings.id, endpoint.mappingId));
  if (!m) throw new DeliveryFailure("This endpoint's mapping was deleted: choose another in the console, then replay.");
  let active;
  try {
    active = await activeMapping(db, m.slug);
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new DeliveryFailure(`Mapping "${m.slug}" has no published version: publish it, then replay.`);
    throw err;
  }
  const target = APPLY_TARGET[endpoint.applyAs];
  if (active.target !== target)
    throw new DeliveryFailure(`Mapping "${m.slug}" produces ${active.target}, but this endpoint applies ${target}.`);
  const parsed = payloadOf(endpoint.settings.scheme, Buffer.from(body), headers);
  if (!parsed.ok) throw new DeliveryFailure(`The stored body cannot be read: ${parsed.reason}`);
  let result;
  try {
    result = await runMapping(compileMapping(active.expression), parsed.payload, target);
  } catch (err) {
    if (err instanceof MappingEvaluationError)
      throw new DeliveryFailure(`Mapping "${m.slug}" v${active.version}: ${err.message}`);
    throw err;
  }
  if (result.errors)
    throw new DeliveryFailure(
      `Mapping "${m.slug}" v${active.version} produced an invalid ${target}: ${describeFieldErrors(result.errors)}`,
      result.output ?? null,
      result.errors,
    );
  const output = result.output as Record<string, unknown>;
  let coupleId: string | null = null;
  if (endpoint.applyAs === "core-fields") {
    let raw: unknown;
    try {
      raw = await compileMapping(endpoint.settings.coupleIdExpression).evaluateRaw(parsed.payload);
    } catch (err) {
      throw new DeliveryFailure(`The couple expression failed: ${err instanceof Error ? err.message : String(err)}`, output);
    }
    if (typeof raw !== "string" || !z.uuid().safeParse(raw).success)
      throw new DeliveryFailure(
        `The couple expression "${endpoint.settings.coupleIdExpression}" gave ${raw === undefined ? "nothing" : JSON.stringify(raw)}, not a couple id.`,
        output,
      );
    coupleId = raw;
  }
  return { output, mapping: { slug: m.slug, version: active.version }, coupleId };
}

// ------------------------------------------------------------------ applying

type Applied = Record<string, unknown> & { coupleId: string };

const principalFor = (endpoint: InboundEndpoint) => systemPrincipal(`webhook:${endpoint.name}`, "staff");

async function applyCoreFields(tx: Tx, endpoint: InboundEndpoint, mapped: Mapped): Promise<Applied> {
  const coupleId = mapped.coupleId!;
  if (endpoint.supplierId) {
    // A vendor's endpoint may only change the couples that vendor works with.
    const [link] = await tx
      .select({ c: supplierCouples.coupleId })
      .from(supplierCouples)
      .where(and(eq(supplierCouples.supplierId, endpoint.supplierId), eq(supplierCouples.coupleId, coupleId)));
    if (!link) throw new DeliveryFailure(`Couple ${coupleId} is not connected to this endpoint's supplier.`, mapped.output);
  }
  const { state, event } = await updateCoreFields(
    tx,
    principalFor(endpoint),
    { coupleId, patch: mapped.output, expectedVersion: "current" },
    { source: "webhook" },
  );
  return {
    applied: "core-fields",
    coupleId,
    version: state.version,
    changed: event ? Object.keys(event.changedFields) : [],
    eventId: event?.id ?? null,
  };
}

const displayNameOf = (core: Record<string, unknown>): string => {
  const first = (v: unknown) => (typeof v === "string" ? v.trim().split(/\s+/)[0] : undefined);
  const a = first(core.partner1Name);
  const b = first(core.partner2Name);
  return a && b ? `${a} & ${b}` : (a ?? "Couple from a webhook");
};

/**
 * The import's upsert key and hash (imported_records, recordHash): a client
 * that a CRM import created is the same couple when its system's webhook
 * reports a change. A new client becomes a couple with empty core fields
 * (version 0) linked to the supplier, then its fields go through
 * updateCoreFields, so versions, the event, the supplier feed and consumers
 * are exactly the API's.
 */
async function applyClient(tx: Tx, endpoint: InboundEndpoint, mapped: Mapped): Promise<Applied> {
  const supplierId = endpoint.supplierId;
  if (!supplierId)
    throw new DeliveryFailure("A client endpoint needs a supplier: set one in the console, then replay.", mapped.output);
  const client = mapped.output as WedsyncClient;
  const core = Object.fromEntries(Object.entries(client).filter(([k, v]) => k in CORE_FIELDS && v !== undefined));
  const hash = recordHash(client);
  const key = and(
    eq(importedRecords.supplierId, supplierId),
    eq(importedRecords.source, client.source),
    eq(importedRecords.externalId, client.externalId),
  );
  const [known] = await tx.select().from(importedRecords).where(key).for("update");
  let coupleId: string;
  let outcome: "created" | "updated" | "unchanged";
  if (known) {
    coupleId = known.coupleId;
    if (known.recordHash === hash) return { applied: "client", outcome: "unchanged", coupleId, externalId: client.externalId };
    outcome = "updated";
  } else {
    coupleId = crypto.randomUUID();
    outcome = "created";
    await tx.insert(couples).values({ id: coupleId, displayName: displayNameOf(core) });
    await tx.insert(coreFields).values({ coupleId, version: 0, fields: {}, lastSeq: 0 });
    await tx.insert(supplierCouples).values({ supplierId, coupleId });
  }
  const { state, event } = await updateCoreFields(
    tx,
    principalFor(endpoint),
    { coupleId, patch: core, expectedVersion: "current" },
    { source: "webhook" },
  );
  if (known)
    await tx
      .update(importedRecords)
      .set({ recordHash: hash, updatedAt: sql`now()` })
      .where(key);
  else
    await tx
      .insert(importedRecords)
      .values({ supplierId, source: client.source, externalId: client.externalId, coupleId, recordHash: hash });
  return {
    applied: "client",
    outcome,
    coupleId,
    externalId: client.externalId,
    version: state.version,
    eventId: event?.id ?? null,
  };
}

// ------------------------------------------------------------------ the job

export type ProcessOutcome = "processed" | "skipped" | "retrying" | "dead";

const DONE = ["processed", "dead"];

export async function processInboundDelivery(ctx: HubContext, deliveryId: string): Promise<ProcessOutcome> {
  const [delivery] = await ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
  if (!delivery || DONE.includes(delivery.status)) return "skipped";
  const started = Date.now();
  let mapped: Mapped | null = null;
  try {
    const endpoint = await getInboundEndpoint(ctx.db, delivery.endpointId);
    // Map outside the transaction: JSONata is CPU work and needs no lock.
    mapped = await mapDelivery(ctx.db, endpoint, delivery.body ?? "", delivery.headers);
    const m = mapped;
    const outcome = await ctx.db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ status: webhookDeliveries.status, attempts: webhookDeliveries.attempts })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.id, deliveryId))
        .for("update");
      // A second run of the job (duplicate, or retry after a crash) waits here and then finds it done.
      if (!locked || DONE.includes(locked.status)) return "skipped" as const;
      const applied = endpoint.applyAs === "client" ? await applyClient(tx, endpoint, m) : await applyCoreFields(tx, endpoint, m);
      const result = { ...applied, mapping: m.mapping };
      const attempt = await nextAttemptNumber(tx, deliveryId);
      await tx
        .update(webhookDeliveries)
        .set({
          status: "processed",
          mappedOutput: m.output,
          result,
          attempts: locked.attempts + 1,
          coupleId: applied.coupleId,
          deliveredAt: sql`now()`,
          nextAttemptAt: null,
          lastError: null,
          updatedAt: sql`now()`,
        })
        .where(eq(webhookDeliveries.id, deliveryId));
      await tx.insert(webhookAttempts).values({ deliveryId, attempt, durationMs: Date.now() - started, outcome: "succeeded" });
      return "processed" as const;
    });
    return outcome;
  } catch (err) {
    // A domain error from the write path (invalid value, unknown couple) is the delivery's failure too; anything
    // else (database down) is also recorded, and counts as an attempt, so a poisoned delivery cannot loop forever.
    const failure =
      err instanceof DeliveryFailure
        ? err
        : new DeliveryFailure(
            err instanceof DomainError ? err.message : `Processing failed: ${err instanceof Error ? err.message : String(err)}`,
            mapped?.output ?? null,
          );
    if (!(err instanceof DomainError) && !(err instanceof DeliveryFailure))
      ctx.log.error({ err, deliveryId }, "inbound webhook processing error");
    return recordFailure(ctx, deliveryId, failure, Date.now() - started);
  }
}

async function nextAttemptNumber(tx: DbOrTx, deliveryId: string): Promise<number> {
  const res = await tx.execute<{ n: number }>(
    sql`select coalesce(max(attempt), 0)::int + 1 as n from webhook_attempts where delivery_id = ${deliveryId}`,
  );
  return res.rows[0]!.n;
}

async function recordFailure(
  ctx: HubContext,
  deliveryId: string,
  failure: DeliveryFailure,
  durationMs: number,
): Promise<ProcessOutcome> {
  return ctx.db.transaction(async (tx) => {
    const [locked] = await tx
      .select({ status: webhookDeliveries.status, attempts: webhookDeliveries.attempts })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, deliveryId))
      .for("update");
    if (!locked || DONE.includes(locked.status)) return "skipped" as const;
    const attempts = locked.attempts + 1;
    const dead = attempts >= retryPolicy.maxAttempts;
    const runAt = dead ? null : new Date(Date.now() + delayAfter(attempts));
    await tx
      .update(webhookDeliveries)
      .set({
        status: dead ? "dead" : "failed",
        attempts,
        mappedOutput: failure.mappedOutput ?? null,
        result: { error: failure.message, ...(failure.fields ? { fields: failure.fields } : {}) },
        lastError: failure.message.slice(0, 2000),
        nextAttemptAt: runAt,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookDeliveries.id, deliveryId));
    await tx.insert(webhookAttempts).values({
      deliveryId,
      attempt: await nextAttemptNumber(tx, deliveryId),
      durationMs,
      outcome: "failed",
      error: failure.message.slice(0, 2000),
    });
    // The next attempt is a new job at its time ("replace" works even while this job still holds the key).
    if (runAt) await enqueueProcess(tx, deliveryId, runAt);
    return dead ? ("dead" as const) : ("retrying" as const);
  });
}

async function enqueueProcess(tx: DbOrTx, deliveryId: string, runAt?: Date): Promise<void> {
  await enqueueJob(
    tx,
    PROCESS_TASK,
    { deliveryId },
    { jobKey: processJobKey(deliveryId), jobKeyMode: "replace", runAt, maxAttempts: JOB_MAX_ATTEMPTS },
  );
}

// ------------------------------------------------------------------ replay

const REPLAYABLE = ["failed", "dead", "processed"];

/** Queue a delivery again with a fresh round of attempts (audited). Its earlier attempts stay in the log. */
export async function replayDelivery(ctx: HubContext, deliveryId: string, actor: Actor): Promise<void> {
  if (!z.uuid().safeParse(deliveryId).success) throw new NotFoundError("No such delivery");
  await ctx.db.transaction(async (tx) => {
    const [d] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).for("update");
    if (!d) throw new NotFoundError("No such delivery");
    await getInboundEndpoint(tx, d.endpointId);
    if (!REPLAYABLE.includes(d.status))
      throw new ConflictError("This delivery is already queued for processing; wait for its result before replaying it.");
    await tx
      .update(webhookDeliveries)
      .set({ status: "received", attempts: 0, nextAttemptAt: null, updatedAt: sql`now()` })
      .where(eq(webhookDeliveries.id, deliveryId));
    await enqueueProcess(tx, deliveryId);
    await recordAudit(tx, actor, {
      action: "webhook_in.replay",
      entityType: "webhook_delivery",
      entityId: deliveryId,
      before: { status: d.status, lastError: d.lastError },
    });
  });
}

/** Replay every dead letter of an endpoint; returns how many were queued. */
export async function replayDeadLetters(ctx: HubContext, endpointId: string, actor: Actor): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    await getInboundEndpoint(tx, endpointId);
    const dead = await tx
      .update(webhookDeliveries)
      .set({ status: "received", attempts: 0, nextAttemptAt: null, updatedAt: sql`now()` })
      .where(and(eq(webhookDeliveries.endpointId, endpointId), inArray(webhookDeliveries.status, ["dead"])))
      .returning({ id: webhookDeliveries.id });
    for (const d of dead) await enqueueProcess(tx, d.id);
    await recordAudit(tx, actor, {
      action: "webhook_in.replay_dead_letters",
      entityType: "webhook_endpoint",
      entityId: endpointId,
      after: { count: dead.length },
    });
    return dead.length;
  });
}

export async function attemptsOf(db: DbOrTx, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, deliveryIds))
    .orderBy(webhookAttempts.deliveryId, webhookAttempts.attempt);
}
