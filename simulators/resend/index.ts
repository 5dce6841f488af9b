// Resend API simulator (emails, idempotency keys, Svix-signed delivery events).
export { createResendSimulator } from "./server.js";
export type * from "./server.js";
