import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "twilio",
  name: "Twilio SMS",
  category: "sms",
  description: "SMS to couples and vendors, with delivery status callbacks.",
  auth: {
    kind: "basic",
    fields: [
      { name: "accountSid", label: "Account SID", secret: false, help: "Starts with AC" },
      { name: "authToken", label: "Auth token", secret: true },
      { name: "from", label: "From number (E.164)", secret: false },
    ],
  },
  capabilities: ["sendSms", "deliveryEvents"],
  rateLimit: { requests: 100, perSeconds: 1, scope: "app" },
  docsUrl: "https://www.twilio.com/docs/messaging/api/message-resource",
};
