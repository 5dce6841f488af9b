import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { recordPing } from "../app/diagnostics/ping.server";

export const diagnosticsPing =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { key } = taskPayloadSchemas.diagnostics_ping.parse(payload);
    await recordPing(ctx.db, key, ctx.instanceId);
  };
