// Cron (every 5 minutes) and the console's "run now": verify the invariants and
// record what is inconsistent (app/ops/consistency.server.ts).
import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { checkConsistencyPayloadSchema, runConsistencyCheck } from "../app/ops/consistency.server";

export const checkConsistencyTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    checkConsistencyPayloadSchema.parse(payload);
    await runConsistencyCheck(ctx);
  };
