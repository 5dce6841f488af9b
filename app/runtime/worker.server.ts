// graphile-worker in this process: same database, its own pool. The pool is
// ours, so shutdown can wait until every worker connection (the LISTEN one
// included) is released before the database goes away.
import pg from "pg";
import { CRONTAB } from "../../workers/crontab";
import { run, Logger as GraphileLogger } from "graphile-worker";
import type { HubContext } from "./context.server";
import { createTaskList } from "../../workers/index";

export interface WorkerHandle {
  stop(): Promise<void>;
}

export async function startWorkerRunner(ctx: HubContext): Promise<WorkerHandle> {
  const log = ctx.log.child({ component: "worker" });
  // Connections closing while the database itself stops are expected, not errors.
  let stopping = false;
  const logger = new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...(meta ?? {}) };
    if (stopping) log.debug(fields, message);
    else if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else log.debug(fields, message);
  });
  const pgPool = new pg.Pool({ connectionString: ctx.databaseUrl, max: ctx.config.workerConcurrency + 2 });
  pgPool.on("error", (err) => {
    if (!stopping) log.warn({ err: err.message }, "idle worker connection lost");
  });
  const runner = await run({
    pgPool,
    concurrency: ctx.config.workerConcurrency,
    taskList: createTaskList(ctx),
    // Scheduled work runs only where asked (tests switch it off so sweeps never touch another test's data).
    crontab: ctx.config.cron ? CRONTAB : "",
    noHandleSignals: true,
    pollInterval: 1000,
    logger,
  });
  return {
    async stop() {
      stopping = true;
      await runner.stop();
      await runner.promise.catch(() => undefined);
      await pgPool.end();
    },
  };
}
