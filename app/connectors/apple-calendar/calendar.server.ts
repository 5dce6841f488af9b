// Apple Calendar (iCloud, or any CalDAV server) behind the calendar provider
// contract (the work is in app/calendar/caldav-*.server.ts).
import type { CalendarProvider } from "../../calendar/provider";
import { removeCalDavEvents, syncCalDavCalendar } from "../../calendar/caldav-push.server";
import { caldavEventsExist } from "../../calendar/event-presence.server";
import { pullCalDavAvailability } from "../../calendar/caldav-pull.server";

export const calendarProvider: CalendarProvider = {
  connectorId: "apple-calendar",
  push: (ctx, connectionId) => syncCalDavCalendar(ctx, connectionId),
  pull: async (ctx, connectionId) => {
    const { skippedObjects: _details, ...counts } = await pullCalDavAvailability(ctx, connectionId);
    return counts;
  },
  removeAll: (ctx, connectionId) => removeCalDavEvents(ctx, connectionId),
  exists: caldavEventsExist,
};
