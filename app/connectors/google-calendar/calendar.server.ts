// Google Calendar behind the calendar provider contract (the work is in app/calendar/google-*.server.ts).
import type { CalendarProvider } from "../../calendar/provider";
import { removeGoogleEvents, syncGoogleCalendar } from "../../calendar/google-push.server";
import { pullGoogleAvailability } from "../../calendar/google-pull.server";
import { googleEventsExist } from "../../calendar/event-presence.server";
import { hasLiveGoogleChannel, stopGoogleChannels, watchGoogleCalendar } from "../../calendar/google-watch.server";

export const calendarProvider: CalendarProvider = {
  connectorId: "google-calendar",
  push: (ctx, connectionId) => syncGoogleCalendar(ctx, connectionId),
  pull: async (ctx, connectionId) => {
    const { skippedEvents: _details, ...counts } = await pullGoogleAvailability(ctx, connectionId);
    return counts;
  },
  removeAll: (ctx, connectionId) => removeGoogleEvents(ctx, connectionId),
  watch: async (ctx, connectionId) => {
    await watchGoogleCalendar(ctx, connectionId);
  },
  isWatched: (ctx, connectionId) => hasLiveGoogleChannel(ctx.db, connectionId),
  unwatch: async (ctx, connectionId) => {
    await stopGoogleChannels(ctx, connectionId);
  },
  exists: googleEventsExist,
};
