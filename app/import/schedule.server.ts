// Scheduled imports (cron, see workers/crontab.ts):
//  - queueScheduledImports: every active CRM connection that has imported
//    successfully before gets a new run. Unchanged records write nothing, so a
//    repeat run is the incremental sync; a live run makes the engine refuse, which
//    is the "skip" we want.
//  - sweepStaleImports: a run left queued/running whose job is gone, or whose job
//    has been locked for a long time (a worker killed mid-import keeps its lock;
//    graphile-worker only frees it after 4 hours), is resumed. Resuming a run that
//    was in fact alive costs a duplicate fetch at most: the engine's cursor check
//    lets one worker commit each page.
import { and, eq, exists, inArray, sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { connections, syncRuns } from "../../db/schema";
import { DomainError } from "../errors";
import { recordAudit, systemActor } from "../audit/audit.server";
import { IMPORT_KIND, importJobKey, importSourceIds, resumeImport, startImport } from "./engine.server";

export const SCHEDULER_ACTOR = systemActor("import scheduler");
export const SWEEPER_ACTOR = systemActor("import sweeper");
/** A job locked this long is taken to belong to a dead worker (no import page takes anywhere near it). */
export const DEFAULT_STALE_LOCK_MS = 30 * 60_000;

export interface ScheduleOutcome {
  started: { connectionId: string; runId: string }[];
  skipped: { connectionId: string; reason: string }[];
}

export interface ScheduleScope {
  /** Only consider these connections (an operator's "import these now"; tests that share a database). */
  connectionIds?: string[];
}

/** Connections eligible for a scheduled import: active, importable, with a succeeded import run. */
export async function eligibleImportConnections(ctx: HubContext, scope: ScheduleScope = {}): Promise<string[]> {
  const sources = importSourceIds();
  if (sources.length === 0 || scope.connectionIds?.length === 0) return [];
  const rows = await ctx.db
    .select({ id: connections.id })
    .from(connections)
    .where(
      and(
        eq(connections.status, "active"),
        inArray(connections.connectorId, sources),
        scope.connectionIds ? inArray(connections.id, scope.connectionIds) : undefined,
        exists(
          ctx.db
            .select({ one: sql`1` })
            .from(syncRuns)
            .where(
              and(eq(syncRuns.connectionId, connections.id), eq(syncRuns.kind, IMPORT_KIND), eq(syncRuns.status, "succeeded")),
            ),
        ),
      ),
    )
    .orderBy(connections.createdAt);
  return rows.map((r) => r.id);
}

export async function queueScheduledImports(ctx: HubContext, scope: ScheduleScope = {}): Promise<ScheduleOutcome> {
  const outcome: ScheduleOutcome = { started: [], skipped: [] };
  for (const connectionId of await eligibleImportConnections(ctx, scope)) {
    try {
      const result = await startImport(ctx, { connectionId, actor: SCHEDULER_ACTOR });
      if (!result.dryRun) outcome.started.push({ connectionId, runId: result.runId });
    } catch (err) {
      // A live run (ConflictError) or a connection that changed meanwhile: skip it, keep going.
      if (!(err instanceof DomainError)) throw err;
      outcome.skipped.push({ connectionId, reason: err.message });
    }
  }
  return outcome;
}

export async function sweepStaleImports(ctx: HubContext, opts: { staleLockMs?: number } = {}): Promise<{ resumed: string[] }> {
  const staleMs = opts.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
  // One statement, one snapshot: a job is deleted only after its run is marked finished,
  // so "live run without a job" is never a run that just completed.
  const res = await ctx.db.execute<{ id: string; why: string }>(sql`
    select r.id::text as id,
           case when j.id is null then 'no job'
                when j.locked_at is not null then 'locked by a worker that stopped'
                else 'job gave up' end as why
      from sync_runs r
      left join graphile_worker._private_jobs j on j.key = 'import:' || r.id::text
     where r.kind = ${IMPORT_KIND}
       and r.status in ('queued', 'running')
       and (j.id is null
            or j.locked_at < now() - make_interval(secs => ${staleMs / 1000})
            or (j.locked_at is null and j.attempts >= j.max_attempts))
     order by r.created_at`);
  const resumed: string[] = [];
  for (const row of res.rows) {
    const ok = await ctx.db.transaction(async (tx) => {
      if (!(await resumeImport(tx, row.id))) return false;
      await recordAudit(tx, SWEEPER_ACTOR, {
        action: "import.resume",
        entityType: "sync_run",
        entityId: row.id,
        after: { reason: row.why, jobKey: importJobKey(row.id) },
      });
      return true;
    });
    if (ok) {
      resumed.push(row.id);
      ctx.log.warn({ runId: row.id, reason: row.why }, "stale import run resumed");
    }
  }
  return { resumed };
}
