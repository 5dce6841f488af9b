// What the console's Imports pages need from the import engine: the CRM
// connections that can import (whatever sources the engine registers), runs
// and their failures, the failures as CSV, a dry run and "re-run failed".
// Every action is audited; the engine stays the one place that starts runs.
import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { connections, mappings, mappingVersions, suppliers, syncRuns } from "../../db/schema";
import { NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { findConnector } from "../connectors/catalog";
import { IMPORT_KIND, importSourceIds, startImport, type DryRunRecord, type ImportCounts } from "./engine.server";

export const DRY_RUN_LIMIT = 20;

export interface ImportConnectionRow {
  connectionId: string;
  supplierId: string;
  supplierName: string;
  connectorId: string;
  connectorName: string;
  accountLabel: string | null;
  status: "active" | "needs_reconnect" | "disconnected";
  liveRunId: string | null;
  lastRun: { id: string; status: string; finishedAt: Date | null } | null;
}

const connectorName = (id: string) => findConnector(id)?.name ?? id;

/** Connections (not disconnected) of every connector the engine can import from, with their live and last run. */
export async function listImportConnections(db: DbOrTx): Promise<ImportConnectionRow[]> {
  const sources = importSourceIds();
  if (sources.length === 0) return [];
  const rows = await db
    .select({
      connectionId: connections.id,
      supplierId: connections.supplierId,
      supplierName: suppliers.name,
      connectorId: connections.connectorId,
      accountLabel: connections.accountLabel,
      status: connections.status,
    })
    .from(connections)
    .innerJoin(suppliers, eq(suppliers.id, connections.supplierId))
    .where(and(inArray(connections.connectorId, sources), ne(connections.status, "disconnected")))
    .orderBy(suppliers.name, connections.connectorId);
  if (rows.length === 0) return [];
  const runs = await db
    .selectDistinctOn([syncRuns.connectionId], {
      connectionId: syncRuns.connectionId,
      id: syncRuns.id,
      status: syncRuns.status,
      finishedAt: syncRuns.finishedAt,
    })
    .from(syncRuns)
    .where(
      and(
        eq(syncRuns.kind, IMPORT_KIND),
        inArray(
          syncRuns.connectionId,
          rows.map((r) => r.connectionId),
        ),
      ),
    )
    .orderBy(syncRuns.connectionId, desc(syncRuns.createdAt));
  const lastBy = new Map(runs.map((r) => [r.connectionId, r]));
  return rows.map((r) => {
    const last = lastBy.get(r.connectionId);
    return {
      ...r,
      connectorName: connectorName(r.connectorId),
      // The newest run is the live one if any is: the one-live-run index allows no other.
      liveRunId: last && (last.status === "queued" || last.status === "running") ? last.id : null,
      lastRun: last ? { id: last.id, status: last.status, finishedAt: last.finishedAt } : null,
    };
  });
}

export interface ImportRunRow {
  id: string;
  connectionId: string | null;
  supplierId: string | null;
  supplierName: string | null;
  connectorId: string | null;
  connectorName: string | null;
  status: string;
  counts: ImportCounts;
  done: number;
  total: number | null;
  onlyExternalIds: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const countsSchema = z.object({
  new: z.number().catch(0).default(0),
  updated: z.number().catch(0).default(0),
  unchanged: z.number().catch(0).default(0),
  failed: z.number().catch(0).default(0),
});
const optionsSchema = z.object({ onlyExternalIds: z.array(z.string()).optional() }).catch({});

const runSelection = {
  id: syncRuns.id,
  connectionId: syncRuns.connectionId,
  supplierId: syncRuns.supplierId,
  supplierName: suppliers.name,
  connectorId: connections.connectorId,
  status: syncRuns.status,
  counts: syncRuns.counts,
  options: syncRuns.options,
  done: syncRuns.done,
  total: syncRuns.total,
  createdAt: syncRuns.createdAt,
  startedAt: syncRuns.startedAt,
  finishedAt: syncRuns.finishedAt,
};

const selectRuns = (db: DbOrTx) =>
  db
    .select(runSelection)
    .from(syncRuns)
    .leftJoin(connections, eq(connections.id, syncRuns.connectionId))
    .leftJoin(suppliers, eq(suppliers.id, syncRuns.supplierId));
type RunSelected = Awaited<ReturnType<typeof selectRuns>>[number];

function toRunRow(r: RunSelected): ImportRunRow {
  const only = optionsSchema.parse(r.options).onlyExternalIds;
  return {
    id: r.id,
    connectionId: r.connectionId,
    supplierId: r.supplierId,
    supplierName: r.supplierName,
    connectorId: r.connectorId,
    connectorName: r.connectorId ? connectorName(r.connectorId) : null,
    status: r.status,
    counts: countsSchema.parse(r.counts),
    done: r.done,
    total: r.total,
    onlyExternalIds: only ? only.length : null,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

export async function listImportRuns(db: DbOrTx, limit = 50): Promise<ImportRunRow[]> {
  const rows = await selectRuns(db).where(eq(syncRuns.kind, IMPORT_KIND)).orderBy(desc(syncRuns.createdAt)).limit(limit);
  return rows.map(toRunRow);
}

export interface ImportFailure {
  externalId: string | null;
  reason: string;
  fields: Record<string, string[]> | null;
}

const failureSchema = z.object({
  externalId: z.string().nullable().catch(null),
  reason: z.string().catch("unknown reason"),
  fields: z.record(z.string(), z.array(z.string())).nullable().optional().catch(null),
});

/** sync_runs.errors as typed failures; an entry we cannot read is still listed, never dropped. */
export function parseFailures(errors: unknown[]): ImportFailure[] {
  return errors.map((e) => {
    const parsed = failureSchema.safeParse(e);
    return parsed.success
      ? { externalId: parsed.data.externalId, reason: parsed.data.reason, fields: parsed.data.fields ?? null }
      : { externalId: null, reason: JSON.stringify(e), fields: null };
  });
}

export interface ImportRunDetail extends ImportRunRow {
  accountLabel: string | null;
  mapping: { slug: string | null; version: number | null; versionId: string | null };
  failures: ImportFailure[];
  /** Failures with an external id: what "Re-run failed records" imports again. */
  failedIds: string[];
  durationMs: number | null;
}

export async function getImportRun(db: DbOrTx, runId: string): Promise<ImportRunDetail> {
  if (!z.uuid().safeParse(runId).success) throw new NotFoundError("No such import run.");
  const [row] = await db
    .select({
      ...runSelection,
      errors: syncRuns.errors,
      accountLabel: connections.accountLabel,
      mappingVersionId: syncRuns.mappingVersionId,
      mappingVersion: mappingVersions.version,
      mappingSlug: mappings.slug,
    })
    .from(syncRuns)
    .leftJoin(connections, eq(connections.id, syncRuns.connectionId))
    .leftJoin(suppliers, eq(suppliers.id, syncRuns.supplierId))
    .leftJoin(mappingVersions, eq(mappingVersions.id, syncRuns.mappingVersionId))
    .leftJoin(mappings, eq(mappings.id, mappingVersions.mappingId))
    .where(and(eq(syncRuns.id, runId), eq(syncRuns.kind, IMPORT_KIND)));
  if (!row) throw new NotFoundError("No such import run.");
  const failures = parseFailures(row.errors);
  const end = row.finishedAt ?? (row.status === "queued" || row.status === "running" ? new Date() : null);
  return {
    ...toRunRow(row),
    accountLabel: row.accountLabel,
    mapping: { slug: row.mappingSlug, version: row.mappingVersion, versionId: row.mappingVersionId },
    failures,
    failedIds: [...new Set(failures.flatMap((f) => (f.externalId ? [f.externalId] : [])))],
    durationMs: row.startedAt && end ? Math.max(0, end.getTime() - row.startedAt.getTime()) : null,
  };
}

// ------------------------------------------------------------------ CSV

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes
 * doubled. A leading = + - @ gets a ' so a spreadsheet shows it as text rather
 * than running it as a formula (the ids and reasons come from the provider).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180: a header line, CRLF after every record. */
export function failuresCsv(failures: ImportFailure[]): string {
  const lines = [["external_id", "reason", "fields"]];
  for (const f of failures) {
    const fields = f.fields
      ? Object.entries(f.fields)
          .map(([name, messages]) => `${name}: ${messages.join(", ")}`)
          .join("; ")
      : "";
    lines.push([f.externalId ?? "", f.reason, fields]);
  }
  return lines.map((l) => l.map(csvField).join(",") + "\r\n").join("");
}

export async function failuresCsvFor(db: DbOrTx, runId: string, actor: Actor): Promise<{ filename: string; csv: string }> {
  const run = await getImportRun(db, runId);
  await recordAudit(db, actor, {
    action: "import.failures_download",
    entityType: "sync_run",
    entityId: run.id,
    after: { failures: run.failures.length },
  });
  return { filename: `import-${run.id}-failures.csv`, csv: failuresCsv(run.failures) };
}

// ------------------------------------------------------------------ actions

export interface DryRunView {
  connectionId: string;
  total: number | null;
  records: DryRunRecord[];
}

/** The first records as the mapping turns them into WedSync clients; nothing is written but the audit entry. */
export async function dryRunImport(
  ctx: HubContext,
  connectionId: string,
  actor: Actor,
  limit = DRY_RUN_LIMIT,
): Promise<DryRunView> {
  const result = await startImport(ctx, { connectionId, dryRun: true, limit });
  if (!result.dryRun) throw new Error("startImport ignored dryRun");
  await recordAudit(ctx.db, actor, {
    action: "import.dry_run",
    entityType: "connection",
    entityId: connectionId,
    after: { records: result.records.length, failed: result.records.filter((r) => r.errors).length, total: result.total },
  });
  return { connectionId, total: result.total, records: result.records };
}

export async function startConsoleImport(ctx: HubContext, connectionId: string, actor: Actor): Promise<string> {
  const result = await startImport(ctx, { connectionId, actor });
  if (result.dryRun) throw new Error("startImport returned a dry run");
  return result.runId;
}

/** A new run of the same connection that imports only the records this run failed on. */
export async function rerunFailedRecords(ctx: HubContext, runId: string, actor: Actor): Promise<string> {
  const run = await getImportRun(ctx.db, runId);
  if (run.status === "queued" || run.status === "running")
    throw new ValidationError("This run is still going; re-run its failed records once it has finished.");
  if (!run.connectionId)
    throw new ValidationError("The connection this run imported from no longer exists; the vendor must connect again.");
  if (run.failedIds.length === 0) throw new ValidationError("This run has no failed records to re-run.");
  const result = await startImport(ctx, { connectionId: run.connectionId, onlyExternalIds: run.failedIds, actor });
  if (result.dryRun) throw new Error("startImport returned a dry run");
  await recordAudit(ctx.db, actor, {
    action: "import.rerun_failed",
    entityType: "sync_run",
    entityId: run.id,
    after: { runId: result.runId, records: run.failedIds.length },
  });
  return result.runId;
}

/** How many import runs are live right now (for the page's summary). */
export async function liveImportCount(db: DbOrTx): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(syncRuns)
    .where(and(eq(syncRuns.kind, IMPORT_KIND), inArray(syncRuns.status, ["queued", "running"])));
  return r?.n ?? 0;
}
