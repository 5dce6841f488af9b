// Twilio Programmable Messaging simulator (Messages.json, status callbacks, inbound STOP/START/HELP).
export { createTwilioSimulator, TWILIO_SANDBOX_ACCOUNT, TWILIO_SIM_UNDELIVERABLE } from "./server.js";
export type * from "./server.js";
export { twilioSignature } from "./signature.js";
