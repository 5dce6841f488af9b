// Outlook Calendar (Microsoft Graph) behind the calendar provider contract
// (the work is in app/calendar/outlook-*.server.ts and graph-subscriptions.server.ts).
import type { CalendarProvider } from "../../calendar/provider";
import { removeOutlookEvents, syncOutlookCalendar } from "../../calendar/outlook-push.server";
import { pullOutlookAvailability } from "../../calendar/outlook-pull.server";
import { deleteGraphSubscriptions } from "../../calendar/graph-subscriptions.server";

export const calendarProvider: CalendarProvider = {
  connectorId: "outlook-calendar",
  push: (ctx, connectionId) => syncOutlookCalendar(ctx, connectionId),
  pull: (ctx, connectionId) => pullOutlookAvailability(ctx, connectionId),
  removeAll: async (ctx, connectionId) => {
    // Disconnecting: no more notifications for this connection, then our events go.
    await deleteGraphSubscriptions(ctx, connectionId);
    return removeOutlookEvents(ctx, connectionId);
  },
};
