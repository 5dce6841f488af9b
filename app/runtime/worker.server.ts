// graphile-worker in this process: same database, its own pool.
import { run, Logger as GraphileLogger, type Runner } from "graphile-worker";
import type { HubContext } from "./context.server";
import { createTaskList } from "../../workers/index";

export async function startWorkerRunner(ctx: HubContext): Promise<Runner> {
  const log = ctx.log.child({ component: "worker" });
  const logger = new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...(meta ?? {}) };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else log.debug(fields, message);
  });
  return run({
    connectionString: ctx.databaseUrl,
    concurrency: ctx.config.workerConcurrency,
    taskList: createTaskList(ctx),
    noHandleSignals: true,
    pollInterval: 1000,
    logger,
  });
}
