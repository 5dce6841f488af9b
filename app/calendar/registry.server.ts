// Calendar connectors by id. Adding a calendar provider is adding its folder
// under app/connectors/ with a calendar.server.ts and one line here.
import type { CalendarProvider } from "./provider";
import { calendarProvider as google } from "../connectors/google-calendar/calendar.server";
import { calendarProvider as apple } from "../connectors/apple-calendar/calendar.server";
import { calendarProvider as outlook } from "../connectors/outlook-calendar/calendar.server";

const providers: CalendarProvider[] = [google, apple, outlook];

const byId = new Map(providers.map((p) => [p.connectorId, p]));

export const calendarConnectorIds = (): string[] => [...byId.keys()];

export function calendarProviderFor(connectorId: string): CalendarProvider | undefined {
  return byId.get(connectorId);
}
