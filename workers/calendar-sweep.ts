import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { enqueueCalendarSweep } from "../app/calendar/consumers.server";

export const calendarSweepTask =
  (ctx: HubContext): Task =>
  async () => {
    const queued = await enqueueCalendarSweep(ctx.db);
    ctx.log.info({ queued }, "calendar sweep queued syncs");
  };
