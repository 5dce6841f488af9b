import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { CalendarBackoff, runCalendarSync } from "../app/calendar/sync.server";
import { backoffDelayMs, enqueueCalendarSync, MAX_BACKOFF_ATTEMPTS } from "../app/calendar/consumers.server";

export const syncCalendarTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { connectionId, pull, backoff } = taskPayloadSchemas.sync_calendar.parse(payload);
    try {
      const outcome = await runCalendarSync(ctx, connectionId, { pull });
      ctx.log.info({ connectionId, ...outcome }, "calendar sync job done");
    } catch (err) {
      if (!(err instanceof CalendarBackoff) || backoff >= MAX_BACKOFF_ATTEMPTS) throw err;
      // The provider said "later": run again when it asked (or on our backoff), not on graphile-worker's schedule.
      const delayMs = backoffDelayMs(backoff, err.retryAfterSeconds);
      await enqueueCalendarSync(ctx.db, connectionId, { delayMs, pull, backoff: backoff + 1 });
      ctx.log.warn(
        { connectionId, status: err.status, delayMs, backoff: backoff + 1 },
        "calendar provider busy: sync rescheduled",
      );
    }
  };
