// SendGrid v3 Mail Send simulator (counts deliveries per hub_key, ECDSA-signed Event Webhook).
export { createSendGridSimulator } from "./server.js";
export type * from "./server.js";
