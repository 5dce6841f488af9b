// Microsoft Graph v1.0 calendar simulator (events, calendarView delta, subscriptions).
export { createMicrosoftGraphSimulator } from "./server.js";
export type * from "./server.js";
