import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { runImport } from "../app/import/engine.server";
import { criticalWorkPending } from "../app/wedding-day/mode.server";

export const importClientsTask =
  (ctx: HubContext): Task =>
  async (payload, helpers) => {
    const { runId } = taskPayloadSchemas.import_clients.parse(payload);
    // On the last attempt a failure marks the run failed; before that the run stays live and the retry resumes it.
    const finalAttempt = helpers.job.attempts >= helpers.job.max_attempts;
    const outcome = await runImport(ctx, runId, {
      finalAttempt,
      signal: helpers.abortSignal,
      // A bulk import waits while any wedding in wedding-day mode has critical work queued.
      shouldYield: () => criticalWorkPending(ctx.db),
    });
    ctx.log.info(outcome, "import job done");
  };
