// LightBlue web-portal simulator (login form with CSRF, session cookie, paginated HTML client list).
export {
  createLightBluePortalSimulator,
  generateLightBlueClients,
  LIGHTBLUE_DEFAULT_PAGE_SIZE,
  LIGHTBLUE_SESSION_COOKIE,
} from "./server.js";
export type * from "./server.js";
