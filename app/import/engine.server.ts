// CRM import engine (flow 2): a vendor's clients at a provider become WedSync
// couples, exactly and repeatably.
//  - startImport: one sync_runs row (kind "import", queued) and its
//    `import_clients` job in ONE transaction; a second start while one is live
//    hits the partial unique index sync_runs_one_live_run → ConflictError.
//  - runImport (the job): page by page, each record mapped by the published
//    mapping (DB active version, else the file) and validated against the
//    `wedsync-client` target, then upserted by (supplier, source, external id):
//    new → couple + core fields (version 1, event `core_fields.created`) +
//    supplier link; changed hash → updateCoreFields (so core-field events and
//    their consumers fire); same hash → nothing written.
//  - Each page's writes, its imported_records, and the run's cursor, counts and
//    errors commit in one transaction, with a NOTIFY on hub_import_progress: a
//    worker killed mid-import leaves the run at its last committed page, and
//    the next job continues from there with exact counts and no duplicates.
import crypto from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, DbOrTx, Tx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import {
  connections,
  coreFields,
  coreFieldVersions,
  couples,
  events,
  importedRecords,
  mappingVersions,
  supplierCouples,
  syncRuns,
} from "../../db/schema";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { compileMapping, MappingEvaluationError, runMapping, type CompiledMapping, type FieldErrors } from "../mapping/engine";
import { activeMapping } from "../mapping/store.server";
import { readMappingFiles } from "../mapping/files.server";
import { CORE_FIELDS } from "../core-fields/schema";
import { EVENTS_CHANNEL, notificationPayload, updateCoreFields } from "../core-fields/write.server";
import { enqueueEventConsumers } from "../core-fields/consumers.server";
import { systemPrincipal } from "../core-fields/principal";
import type { HubEvent } from "../core-fields/events";
import { enqueueJob } from "../jobs/enqueue.server";
import { recordAudit, type Actor } from "../audit/audit.server";
import { SourceAuthError, type ImportConnection, type ImportCursor, type ImportSource, type ImportSourceFactory } from "./source";
import { IMPORT_SOURCES } from "./sources.server";

export const IMPORT_KIND = "import";
export const IMPORT_PROGRESS_CHANNEL = "hub_import_progress";
export const IMPORT_TARGET = "wedsync-client" as const;
export const DEFAULT_PAGE_SIZE = 100;
/** sync_runs.errors keeps the first this-many record failures; counts.failed stays exact. */
export const MAX_STORED_ERRORS = 1000;

/** One source per connector (app/import/sources.server.ts), each in app/connectors/<id>/import.server.ts. */
const SOURCES: Readonly<Record<string, ImportSourceFactory>> = IMPORT_SOURCES;

/** Connector ids that have an import source (what the console offers and the scheduler imports). */
export const importSourceIds = (): string[] => Object.keys(SOURCES);

export const importJobKey = (runId: string) => `import:${runId}`;

export interface ImportCounts {
  new: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export interface ImportError {
  externalId: string | null;
  reason: string;
  fields?: FieldErrors;
}

const runOptionsSchema = z.object({
  onlyExternalIds: z.array(z.string()).optional(),
  pageSize: z.number().int().min(1).max(1000).default(DEFAULT_PAGE_SIZE),
});
type RunOptions = z.infer<typeof runOptionsSchema>;

/** sync_runs.cursor of an import: where the next page starts (null once finished) and pages committed. */
const runCursorSchema = z.object({ next: z.record(z.string(), z.unknown()).nullable().optional(), pages: z.number().default(0) });

// ------------------------------------------------------------------ mapping

export interface ImportMapping {
  expression: string;
  /** The mapping_versions row used, when it came from the DB (recorded on the run). */
  versionId: string | null;
  origin: "db" | "file";
}

/** The version the run already recorded, else the DB's active published version, else the file in mappings/. */
export async function loadImportMapping(db: DbOrTx, slug: string, versionId?: string | null): Promise<ImportMapping> {
  if (versionId) {
    const [v] = await db.select().from(mappingVersions).where(eq(mappingVersions.id, versionId));
    if (v) return { expression: v.expression, versionId: v.id, origin: "db" };
  }
  try {
    const m = await activeMapping(db, slug);
    if (m.target !== IMPORT_TARGET)
      throw new ValidationError(`Mapping "${slug}" must produce a ${IMPORT_TARGET}, not ${m.target}`);
    return { expression: m.expression, versionId: m.versionId, origin: "db" };
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const file = readMappingFiles().find((m) => m.slug === slug);
  if (!file) throw new NotFoundError(`Mapping "${slug}" has no published version and no file in mappings/`);
  return { expression: file.expression, versionId: null, origin: "file" };
}

// ------------------------------------------------------------------ records

export interface MappedRecord {
  externalId: string;
  output: Record<string, unknown>;
  /** The core-field subset of the output: what is written to the couple. */
  core: Record<string, unknown>;
  hash: string;
}

export type PreparedRecord = { ok: true; record: MappedRecord } | { ok: false; error: ImportError };

/** JSON with sorted keys, so equal records hash equally whatever the key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const recordHash = (output: unknown) => crypto.createHash("sha256").update(canonicalJson(output)).digest("hex");

const describeFieldErrors = (errors: FieldErrors) =>
  Object.entries(errors)
    .map(([field, messages]) => `${field} ${messages.join(", ")}`)
    .join("; ");

/** Map and validate one record. Failures are data (reported per record), never exceptions. */
export async function prepareRecord(compiled: CompiledMapping, source: ImportSource, raw: unknown): Promise<PreparedRecord> {
  const externalId = source.externalId(raw);
  if (!externalId) return { ok: false, error: { externalId: null, reason: "the record has no id" } };
  try {
    const { output, errors } = await runMapping(compiled, raw, IMPORT_TARGET);
    if (errors) return { ok: false, error: { externalId, reason: describeFieldErrors(errors), fields: errors } };
    const out = output as Record<string, unknown>;
    const core = Object.fromEntries(Object.entries(out).filter(([k, v]) => k in CORE_FIELDS && v !== undefined));
    return { ok: true, record: { externalId, output: out, core, hash: recordHash(out) } };
  } catch (err) {
    if (err instanceof MappingEvaluationError) return { ok: false, error: { externalId, reason: err.message } };
    throw err;
  }
}

// ------------------------------------------------------------------ start

export interface StartImportInput {
  connectionId: string;
  dryRun?: boolean;
  /** Import only these records (the rest of the source is paged through and skipped). */
  onlyExternalIds?: string[];
  pageSize?: number;
  /** Dry run: how many records to map (default 20). */
  limit?: number;
  actor?: Actor;
}

export interface DryRunRecord {
  externalId: string | null;
  output: Record<string, unknown> | null;
  errors: ImportError | null;
}

export type StartImportResult =
  { dryRun: false; runId: string } | { dryRun: true; records: DryRunRecord[]; total: number | null };

async function loadConnection(db: DbOrTx, connectionId: string): Promise<ImportConnection> {
  const [c] = await db.select().from(connections).where(eq(connections.id, connectionId));
  if (!c) throw new NotFoundError(`No connection ${connectionId}`);
  if (!(c.connectorId in SOURCES)) throw new ValidationError(`Connector "${c.connectorId}" cannot import clients`);
  return {
    id: c.id,
    supplierId: c.supplierId,
    connectorId: c.connectorId,
    accountId: c.accountId,
    credentialsEnc: c.credentialsEnc,
    settings: c.settings,
  };
}

/** The unique violation of the one-live-run index, however drizzle wraps pg's error. */
function isLiveRunViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === "23505" && constraint === "sync_runs_one_live_run") return true;
  }
  return false;
}

export async function startImport(ctx: HubContext, input: StartImportInput): Promise<StartImportResult> {
  const connection = await loadConnection(ctx.db, input.connectionId);
  if (input.dryRun) return dryRun(ctx, connection, input);
  const options: RunOptions = runOptionsSchema.parse({ onlyExternalIds: input.onlyExternalIds, pageSize: input.pageSize });
  try {
    const runId = await ctx.db.transaction(async (tx) => {
      const [run] = await tx
        .insert(syncRuns)
        .values({
          connectionId: connection.id,
          supplierId: connection.supplierId,
          kind: IMPORT_KIND,
          status: "queued",
          options,
          counts: { new: 0, updated: 0, unchanged: 0, failed: 0 },
          total: options.onlyExternalIds?.length ?? null,
        })
        .returning({ id: syncRuns.id });
      await enqueueJob(
        tx,
        "import_clients",
        { runId: run!.id },
        { jobKey: importJobKey(run!.id), jobKeyMode: "replace", maxAttempts: 10 },
      );
      if (input.actor)
        await recordAudit(tx, input.actor, {
          action: "import.start",
          entityType: "connection",
          entityId: connection.id,
          after: { runId: run!.id, ...options },
        });
      return run!.id;
    });
    return { dryRun: false, runId };
  } catch (err) {
    if (!isLiveRunViolation(err)) throw err;
    const [live] = await ctx.db
      .select({ id: syncRuns.id, status: syncRuns.status })
      .from(syncRuns)
      .where(
        and(
          eq(syncRuns.connectionId, connection.id),
          eq(syncRuns.kind, IMPORT_KIND),
          inArray(syncRuns.status, ["queued", "running"]),
        ),
      );
    throw new ConflictError(
      `An import of this account is already ${live?.status ?? "running"}; wait for it to finish before starting another.`,
      { runId: live?.id ?? null },
    );
  }
}

/** Queue a live run's job again (same key, "replace"): how a run whose worker died is picked up by another. */
export async function resumeImport(db: DbOrTx, runId: string, runAt?: Date): Promise<boolean> {
  const [run] = await db.select({ status: syncRuns.status }).from(syncRuns).where(eq(syncRuns.id, runId));
  if (!run || (run.status !== "queued" && run.status !== "running")) return false;
  await enqueueJob(
    db,
    "import_clients",
    { runId },
    { jobKey: importJobKey(runId), jobKeyMode: "replace", maxAttempts: 10, runAt },
  );
  return true;
}

async function dryRun(ctx: HubContext, connection: ImportConnection, input: StartImportInput): Promise<StartImportResult> {
  const limit = input.limit ?? 20;
  const source = await SOURCES[connection.connectorId]!(ctx, connection);
  const mapping = await loadImportMapping(ctx.db, source.mappingSlug);
  const compiled = compileMapping(mapping.expression);
  const only = input.onlyExternalIds ? new Set(input.onlyExternalIds) : null;
  const records: DryRunRecord[] = [];
  let cursor: ImportCursor | null = null;
  let total: number | null = null;
  do {
    const page = await source.fetchPage(cursor, { pageSize: Math.min(input.pageSize ?? DEFAULT_PAGE_SIZE, limit) });
    total = page.total;
    for (const raw of page.records) {
      if (records.length >= limit) break;
      const id = source.externalId(raw);
      if (only && (!id || !only.has(id))) continue;
      const r = await prepareRecord(compiled, source, raw);
      records.push(
        r.ok
          ? { externalId: r.record.externalId, output: r.record.output, errors: null }
          : { externalId: r.error.externalId, output: null, errors: r.error },
      );
    }
    cursor = page.next;
  } while (cursor && records.length < limit);
  return { dryRun: true, records, total };
}

// ------------------------------------------------------------------ run

export interface RunImportOutcome {
  runId: string;
  /** "yielded": paused between pages for a wedding's critical work; its job is queued again. */
  status: "succeeded" | "failed" | "running" | "skipped" | "yielded";
  counts: ImportCounts;
  done: number;
  total: number | null;
  pages: number;
}

const countsOf = (raw: Record<string, number>): ImportCounts => ({
  new: raw.new ?? 0,
  updated: raw.updated ?? 0,
  unchanged: raw.unchanged ?? 0,
  failed: raw.failed ?? 0,
});

/**
 * Run (or resume) an import. `finalAttempt`: the job will not be retried, so a
 * failure marks the run failed (otherwise it stays running and the retry resumes).
 */
export async function runImport(
  ctx: HubContext,
  runId: string,
  opts: {
    finalAttempt?: boolean;
    signal?: AbortSignal;
    /** Asked between pages: true = stop here and resume after `yieldForMs` (wedding-day work comes first). */
    shouldYield?: () => Promise<boolean>;
    yieldForMs?: number;
  } = {},
): Promise<RunImportOutcome> {
  const [run] = await ctx.db.select().from(syncRuns).where(eq(syncRuns.id, runId));
  if (!run) throw new NotFoundError(`No sync run ${runId}`);
  const skipped = (): RunImportOutcome => ({
    runId,
    status: "skipped",
    counts: countsOf(run.counts),
    done: run.done,
    total: run.total,
    pages: runCursorSchema.parse(run.cursor).pages,
  });
  if (run.kind !== IMPORT_KIND || (run.status !== "queued" && run.status !== "running") || !run.connectionId) return skipped();

  try {
    const connection = await loadConnection(ctx.db, run.connectionId);
    const source = await SOURCES[connection.connectorId]!(ctx, connection);
    const mapping = await loadImportMapping(ctx.db, source.mappingSlug, run.mappingVersionId);
    await ctx.db
      .update(syncRuns)
      .set({ status: "running", startedAt: run.startedAt ?? sql`now()`, mappingVersionId: mapping.versionId })
      .where(and(eq(syncRuns.id, runId), inArray(syncRuns.status, ["queued", "running"])));
    const compiled = compileMapping(mapping.expression);
    const options = runOptionsSchema.parse(run.options);
    const only = options.onlyExternalIds ? new Set(options.onlyExternalIds) : null;
    let position = runCursorSchema.parse(run.cursor);
    let state = { counts: countsOf(run.counts), done: run.done, total: run.total };

    /** Fetch a page and map its records (CPU), so that it can overlap the previous page's commit (I/O). */
    const load = async (cursor: ImportCursor | null) => {
      const page = await source.fetchPage(cursor, { pageSize: options.pageSize, signal: opts.signal });
      // Within a page the last copy of a record wins (a provider may list one twice while it changes).
      const byId = new Map<string, unknown>();
      const anonymous: unknown[] = [];
      for (const raw of page.records) {
        const id = source.externalId(raw);
        if (only && (!id || !only.has(id))) continue;
        if (id) byId.set(id, raw);
        else anonymous.push(raw);
      }
      const prepared: PreparedRecord[] = [];
      for (const raw of [...byId.values(), ...anonymous]) prepared.push(await prepareRecord(compiled, source, raw));
      return { page, prepared };
    };

    let loading = load(position.next ?? null);
    for (;;) {
      const { page, prepared } = await loading;
      const next = { next: page.next, pages: position.pages + 1 };
      // Read ahead one page while this one commits; the cursor check keeps the order exact.
      if (page.next) {
        loading = load(page.next);
        loading.catch(() => undefined); // awaited on the next turn; never an unhandled rejection meanwhile
      }
      const committed = await withDeadlockRetry(() =>
        commitPage(ctx.db, {
          runId,
          supplierId: connection.supplierId,
          source: source.connector,
          expected: position,
          next,
          prepared,
          total: only ? only.size : page.total,
          finished: page.next === null,
        }),
      );
      // Another worker moved this run on (a duplicate job): leave the rest to it.
      if (!committed) return { runId, status: "running", ...state, pages: position.pages };
      state = committed;
      position = next;
      if (page.next === null) return { runId, status: "succeeded", ...state, pages: position.pages };
      // Bulk work yields between pages (the cursor is committed, nothing is lost or repeated).
      if (opts.shouldYield && (await opts.shouldYield())) {
        await resumeImport(ctx.db, runId, new Date(Date.now() + (opts.yieldForMs ?? 5_000)));
        return { runId, status: "yielded", ...state, pages: position.pages };
      }
    }
  } catch (err) {
    // A refused key cannot get better by retrying; other failures can, until the last attempt.
    if (err instanceof SourceAuthError || opts.finalAttempt) {
      await failRun(ctx.db, runId, err instanceof Error ? err.message : String(err));
      if (err instanceof SourceAuthError) {
        const [r] = await ctx.db.select().from(syncRuns).where(eq(syncRuns.id, runId));
        return { runId, status: "failed", counts: countsOf(r!.counts), done: r!.done, total: r!.total, pages: 0 };
      }
    }
    throw err;
  }
}

async function failRun(db: Db, runId: string, reason: string): Promise<void> {
  await db.execute(sql`
    update sync_runs set status = 'failed', finished_at = now(),
      errors = errors || ${JSON.stringify([{ externalId: null, reason }])}::jsonb
    where id = ${runId} and status in ('queued', 'running')`);
  await db.execute(sql`select pg_notify(${IMPORT_PROGRESS_CHANNEL}, ${JSON.stringify({ runId, status: "failed" })})`);
}

async function withDeadlockRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // Our page holds its supplier's row while updateCoreFields locks couples: a concurrent
      // single-couple write can deadlock with it. PostgreSQL aborts one side; redo the page.
      const code = (err as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code;
      if ((code !== "40P01" && code !== "40001") || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

// ------------------------------------------------------------------ one page

interface PageInput {
  runId: string;
  supplierId: string;
  source: string;
  expected: z.infer<typeof runCursorSchema>;
  next: { next: ImportCursor | null; pages: number };
  prepared: PreparedRecord[];
  total: number | null;
  finished: boolean;
}

const IMPORT_ACTOR = "import";

/** Commit one page: its writes, its imported_records, the run's cursor/counts/errors, a progress NOTIFY. Null if the run moved on. */
async function commitPage(db: Db, p: PageInput): Promise<{ counts: ImportCounts; done: number; total: number | null } | null> {
  return db.transaction(async (tx) => {
    // The run row first: it serialises every writer of this run, and its cursor proves this page is the next one.
    const locked = await tx.execute<{
      status: string;
      cursor: unknown;
      counts: Record<string, number>;
      done: number;
      errors_n: number;
    }>(
      sql`select status, cursor, counts, done, jsonb_array_length(errors) as errors_n from sync_runs where id = ${p.runId} for update`,
    );
    const run = locked.rows[0];
    if (!run || run.status !== "running") return null;
    const current = runCursorSchema.parse(run.cursor);
    if (current.pages !== p.expected.pages || JSON.stringify(current.next ?? null) !== JSON.stringify(p.expected.next ?? null))
      return null;

    const ok = p.prepared.flatMap((r) => (r.ok ? [r.record] : []));
    const failures = p.prepared.flatMap((r) => (r.ok ? [] : [r.error]));
    const existing = ok.length
      ? await tx
          .select({
            externalId: importedRecords.externalId,
            coupleId: importedRecords.coupleId,
            hash: importedRecords.recordHash,
          })
          .from(importedRecords)
          .where(
            and(
              eq(importedRecords.supplierId, p.supplierId),
              eq(importedRecords.source, p.source),
              inArray(
                importedRecords.externalId,
                ok.map((r) => r.externalId),
              ),
            ),
          )
      : [];
    const known = new Map(existing.map((e) => [e.externalId, e]));
    const fresh = ok.filter((r) => !known.has(r.externalId));
    const changed = ok.filter((r) => known.has(r.externalId) && known.get(r.externalId)!.hash !== r.hash);
    const unchanged = ok.length - fresh.length - changed.length;

    // Changed first: updateCoreFields locks each couple, then its suppliers (the write path's lock order).
    const updatedHashes: { externalId: string; hash: string }[] = [];
    for (const r of changed) {
      try {
        await updateCoreFields(
          tx,
          systemPrincipal(`${IMPORT_ACTOR}:${p.source}`, "staff"),
          { coupleId: known.get(r.externalId)!.coupleId, patch: r.core, expectedVersion: "current" },
          { source: "import" },
        );
        updatedHashes.push({ externalId: r.externalId, hash: r.hash });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        failures.push({ externalId: r.externalId, reason: err.message, fields: err.fieldErrors });
      }
    }
    if (updatedHashes.length)
      await tx.execute(sql`
        update imported_records ir set record_hash = u.hash, last_run_id = ${p.runId}, updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(updatedHashes)}::jsonb) as u("externalId" text, hash text)
        where ir.supplier_id = ${p.supplierId} and ir.source = ${p.source} and ir.external_id = u."externalId"`);

    if (fresh.length) await createCouples(tx, p, fresh);

    const add: ImportCounts = { new: fresh.length, updated: updatedHashes.length, unchanged, failed: failures.length };
    const prev = countsOf(run.counts);
    const counts: ImportCounts = {
      new: prev.new + add.new,
      updated: prev.updated + add.updated,
      unchanged: prev.unchanged + add.unchanged,
      failed: prev.failed + add.failed,
    };
    const done = run.done + p.prepared.length;
    const room = Math.max(0, MAX_STORED_ERRORS - Number(run.errors_n));
    const newErrors = failures.slice(0, room);
    await tx.execute(sql`
      update sync_runs set
        cursor = ${JSON.stringify(p.next)}::jsonb,
        counts = ${JSON.stringify(counts)}::jsonb,
        done = ${done},
        total = ${p.total},
        errors = errors || ${JSON.stringify(newErrors)}::jsonb,
        status = ${p.finished ? "succeeded" : "running"},
        finished_at = ${p.finished ? sql`now()` : null}
      where id = ${p.runId}`);
    // Delivered on commit only, so a progress bar never shows work that was rolled back.
    await tx.execute(
      sql`select pg_notify(${IMPORT_PROGRESS_CHANNEL}, ${JSON.stringify({
        runId: p.runId,
        supplierId: p.supplierId,
        done,
        total: p.total,
        status: p.finished ? "succeeded" : "running",
        counts,
      })})`,
    );
    return { counts, done, total: p.total };
  });
}

const displayNameOf = (core: Record<string, unknown>): string => {
  const first = (v: unknown) => (typeof v === "string" ? v.trim().split(/\s+/)[0] : undefined);
  const a = first(core.partner1Name);
  const b = first(core.partner2Name);
  return a && b ? `${a} & ${b}` : (a ?? "Imported couple");
};

/**
 * New records, set-based: couples, core fields (version 1), their first
 * version, one `core_fields.created` event each (seq 1) appended to the
 * supplier's feed, supplier links and imported_records, a few statements per
 * page rather than per record. Consumers and NOTIFYs run per event, as for any write.
 */
async function createCouples(tx: Tx, p: PageInput, fresh: MappedRecord[]): Promise<void> {
  const rows = fresh.map((r) => ({ coupleId: crypto.randomUUID(), record: r }));
  const actor = `${IMPORT_ACTOR}:${p.source}`;
  const diffOf = (core: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(core).map(([k, v]) => [k, { old: null, new: v }]));
  await tx.insert(couples).values(rows.map((r) => ({ id: r.coupleId, displayName: displayNameOf(r.record.core) })));
  await tx.insert(coreFields).values(rows.map((r) => ({ coupleId: r.coupleId, version: 1, fields: r.record.core, lastSeq: 1 })));
  await tx.insert(coreFieldVersions).values(
    rows.map((r) => ({
      coupleId: r.coupleId,
      version: 1,
      fields: r.record.core,
      diff: diffOf(r.record.core),
      source: "import",
      actor,
    })),
  );
  await tx.insert(supplierCouples).values(rows.map((r) => ({ supplierId: p.supplierId, coupleId: r.coupleId })));
  await tx.insert(importedRecords).values(
    rows.map((r) => ({
      supplierId: p.supplierId,
      source: p.source,
      externalId: r.record.externalId,
      coupleId: r.coupleId,
      recordHash: r.record.hash,
      lastRunId: p.runId,
    })),
  );
  const inserted = await tx
    .insert(events)
    .values(
      rows.map((r) => ({
        coupleId: r.coupleId,
        seq: 1,
        type: "core_fields.created",
        changedFields: diffOf(r.record.core),
        version: 1,
        source: "import",
        actor,
      })),
    )
    .returning();
  // The supplier's feed stays gapless: reserve one block of sequence numbers under its row lock.
  const bumped = await tx.execute<{ last_feed_seq: string | number }>(
    sql`update suppliers set last_feed_seq = last_feed_seq + ${inserted.length} where id = ${p.supplierId} returning last_feed_seq`,
  );
  const first = Number(bumped.rows[0]!.last_feed_seq) - inserted.length + 1;
  const hubEvents: HubEvent[] = inserted.map((e) => ({
    id: e.id,
    coupleId: e.coupleId,
    seq: e.seq,
    type: "core_fields.created" as const,
    changedFields: e.changedFields,
    version: e.version,
    source: "import",
    actor: e.actor,
    supplierId: null,
    occurredAt: e.occurredAt.toISOString(),
  }));
  await tx.execute(sql`
    insert into supplier_feed (supplier_id, seq, event_id)
    select ${p.supplierId}::uuid, ${first}::bigint + ord - 1, id_text::bigint
    from jsonb_array_elements_text(${JSON.stringify(hubEvents.map((e) => String(e.id)))}::jsonb) with ordinality as t(id_text, ord)`);
  const payloads = hubEvents.map((e, i) => notificationPayload(e, { [p.supplierId]: first + i }));
  await tx.execute(
    sql`select pg_notify(${EVENTS_CHANNEL}, payload) from jsonb_array_elements_text(${JSON.stringify(payloads)}::jsonb) as t(payload)`,
  );
  for (const e of hubEvents) await enqueueEventConsumers(tx, e);
}
