import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { CalendarBackoff, runCalendarSync } from "../app/calendar/sync.server";
import { backoffDelayMs, enqueueCalendarSync, MAX_BACKOFF_ATTEMPTS } from "../app/calendar/consumers.server";
import { CRITICAL_PRIORITY, criticalWorkPending } from "../app/wedding-day/mode.server";

const THROTTLE_DELAY_MS = 5_000;

export const syncCalendarTask =
  (ctx: HubContext): Task =>
  async (payload, helpers) => {
    const { connectionId, pull, backoff } = taskPayloadSchemas.sync_calendar.parse(payload);
    // Routine syncs wait while a wedding in wedding-day mode has critical work queued.
    if (helpers.job.priority > CRITICAL_PRIORITY && (await criticalWorkPending(ctx.db))) {
      await enqueueCalendarSync(ctx.db, connectionId, { delayMs: THROTTLE_DELAY_MS, pull, backoff });
      ctx.log.info({ connectionId }, "calendar sync deferred behind wedding-day work");
      return;
    }
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
