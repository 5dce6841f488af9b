// Cron tasks of the CRM import: the hourly incremental import of every
// connection that has imported before, and the sweep that resumes runs whose
// worker died (see app/import/schedule.server.ts).
import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { queueScheduledImports, sweepStaleImports } from "../app/import/schedule.server";

export const importScheduleTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    taskPayloadSchemas.import_schedule.parse(payload);
    const outcome = await queueScheduledImports(ctx);
    ctx.log.info({ started: outcome.started.length, skipped: outcome.skipped.length }, "scheduled imports queued");
  };

export const importSweepTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    taskPayloadSchemas.import_sweep.parse(payload);
    const { resumed } = await sweepStaleImports(ctx);
    if (resumed.length) ctx.log.warn({ resumed }, "stale import runs resumed");
  };
