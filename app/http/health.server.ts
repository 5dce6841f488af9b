// /healthz: the process is alive. /readyz: it can do its job (database
// reachable, migrations applied, workers running where this process runs them).
import express from "express";
import type { HubContext } from "../runtime/context.server";
import { pendingMigrations } from "../runtime/migrate.server";

export function createHealthRouter(ctx: HubContext): express.Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await ctx.database.pool.query("select 1");
      checks.database = { ok: true };
      const pending = await pendingMigrations(ctx.database);
      checks.migrations = pending === 0 ? { ok: true } : { ok: false, detail: `${pending} migration(s) not applied` };
    } catch (err) {
      checks.database = { ok: false, detail: err instanceof Error ? err.message : "unreachable" };
    }
    const { workersRunning } = ctx.status();
    if (ctx.role !== "web") checks.workers = workersRunning ? { ok: true } : { ok: false, detail: "worker runner not running" };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "not ready", role: ctx.role, instance: ctx.instanceId, checks });
  });
  return router;
}
