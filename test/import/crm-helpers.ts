// Shared by the HoneyBook, 17hats and LightBlue import tests: start an import
// and run its job function in this process, to the end.
//
// Why not a worker process, as tave-import.test.ts does: every test file's hub
// has its own encryption keys, and graphile-worker would let one file's workers
// take another file's jobs (and fail to decrypt their credentials). So the job
// startImport queued is taken out of the queue (graphile_worker.remove_job) and
// runImport, the job's function, is run here with the hub's own context.
import { eq, sql } from "drizzle-orm";
import { supplierCouples, syncRuns } from "../../db/schema";
import { importJobKey, runImport, startImport } from "../../app/import/engine.server";
import type { HubContext } from "../../app/runtime/context.server";

export async function importToEnd(ctx: HubContext, connectionId: string, opts: { pageSize?: number } = {}) {
  const started = await startImport(ctx, { connectionId, pageSize: opts.pageSize });
  if (started.dryRun) throw new Error("not a dry run");
  await ctx.db.execute(sql`select graphile_worker.remove_job(${importJobKey(started.runId)})`);
  // The last attempt: a failure marks the run failed with its reason (what the tests read), never a silent retry.
  await runImport(ctx, started.runId, { finalAttempt: true }).catch(() => undefined);
  const [run] = await ctx.db.select().from(syncRuns).where(eq(syncRuns.id, started.runId));
  return run!;
}

export async function coupleCount(ctx: HubContext, supplierId: string): Promise<number> {
  const [r] = await ctx.db
    .select({ n: sql<number>`count(*)::int` })
    .from(supplierCouples)
    .where(eq(supplierCouples.supplierId, supplierId));
  return r!.n;
}
