// Google Calendar API v3 simulator (events, sync tokens, push channels).
export { createGoogleCalendarSimulator } from "./server.js";
export type * from "./server.js";
