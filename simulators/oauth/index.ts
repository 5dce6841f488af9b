// OAuth 2.0 authorization-server simulators (Google, Microsoft identity platform, HoneyBook).
export { createOAuthSimulator } from "./server.js";
export type { OAuthSimulatorDefinition } from "./server.js";
export { SANDBOX_OAUTH_CLIENTS, SANDBOX_OAUTH_USERS } from "./sandbox.js";
export { OAUTH_PROVIDERS } from "./types.js";
export type * from "./types.js";
