// Outlook Calendar (Microsoft Graph) behind the calendar provider contract
// (the work is in app/calendar/outlook-*.server.ts and graph-subscriptions.server.ts).
import type { CalendarProvider } from "../../calendar/provider";
import { removeOutlookEvents, syncOutlookCalendar } from "../../calendar/outlook-push.server";
import { pullOutlookAvailability } from "../../calendar/outlook-pull.server";
import { outlookEventsExist } from "../../calendar/event-presence.server";
import {
  createGraphSubscription,
  deleteGraphSubscriptions,
  graphSubscriptionIsLive,
  renewGraphSubscriptions,
} from "../../calendar/graph-subscriptions.server";

export const calendarProvider: CalendarProvider = {
  connectorId: "outlook-calendar",
  push: (ctx, connectionId) => syncOutlookCalendar(ctx, connectionId),
  pull: (ctx, connectionId) => pullOutlookAvailability(ctx, connectionId),
  removeAll: async (ctx, connectionId) => {
    // Disconnecting: no more notifications for this connection, then our events go.
    await deleteGraphSubscriptions(ctx, connectionId);
    return removeOutlookEvents(ctx, connectionId);
  },
  // Extend the live subscription; when there is none (or Graph forgot it) create one.
  watch: async (ctx, connectionId) => {
    const renewed = await renewGraphSubscriptions(ctx, { connectionId });
    if (renewed === 0 && !(await graphSubscriptionIsLive(ctx, connectionId))) await createGraphSubscription(ctx, connectionId);
  },
  isWatched: (ctx, connectionId) => graphSubscriptionIsLive(ctx, connectionId),
  unwatch: async (ctx, connectionId) => {
    await deleteGraphSubscriptions(ctx, connectionId);
  },
  exists: outlookEventsExist,
};
