import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "sendgrid",
  name: "SendGrid",
  category: "email",
  description: "Transactional email (second in the failover order).",
  auth: { kind: "api_key", fields: [{ name: "apiKey", label: "SendGrid API key", secret: true }] },
  capabilities: ["sendEmail", "deliveryEvents"],
  rateLimit: { requests: 600, perSeconds: 60, scope: "app" },
  docsUrl: "https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send",
};
