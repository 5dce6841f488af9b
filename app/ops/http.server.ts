// GET /metrics: Prometheus text format for the whole hub (this process's
// registry plus every other live process's latest snapshot). Bearer
// METRICS_TOKEN or an API token with the "ops" scope; 401 otherwise.
import express from "express";
import type { HubContext } from "../runtime/context.server";
import { aggregatedMetricsText, metricsAuthorized } from "./metrics.server";
import { liveSnapshots } from "./snapshots.server";

export function createMetricsRouter(ctx: HubContext): express.Router {
  const router = express.Router();
  router.get("/metrics", async (req, res) => {
    try {
      if (!(await metricsAuthorized(ctx, req.get("authorization")))) {
        res.setHeader("www-authenticate", 'Bearer realm="metrics"');
        res.status(401).type("text/plain").send("A metrics token or an API token with the ops scope is required.\n");
        return;
      }
      const others = await liveSnapshots(ctx.db, { excludeProcessId: ctx.instanceId });
      const { text, contentType } = await aggregatedMetricsText(others.map((s) => s.metrics));
      res.setHeader("content-type", contentType);
      res.setHeader("cache-control", "no-store");
      res.send(text);
    } catch (err) {
      ctx.log.error({ err }, "metrics exposition failed");
      res.status(500).type("text/plain").send("metrics unavailable\n");
    }
  });
  return router;
}
