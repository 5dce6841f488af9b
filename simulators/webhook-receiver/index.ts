// Webhook receiver simulator (outbound webhooks' far end; see server.ts).
export { createWebhookReceiverSimulator, failRuleSchema } from "./server.js";
export type * from "./server.js";
