import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { syncGoogleCalendar } from "../app/calendar/google-push.server";

export const syncGoogleCalendarTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { connectionId } = taskPayloadSchemas.sync_google_calendar.parse(payload);
    const { skipped, ...counts } = await syncGoogleCalendar(ctx, connectionId);
    ctx.log.info({ connectionId, ...counts, skipped: skipped.length }, "calendar sync job done");
  };
