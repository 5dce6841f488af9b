import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { prewarmWeddingDays } from "../app/wedding-day/prewarm.server";

export const prewarmWeddingDaysTask =
  (ctx: HubContext): Task =>
  async () => {
    const result = await prewarmWeddingDays(ctx);
    ctx.log.info(result, "wedding-day pre-warm done");
  };
