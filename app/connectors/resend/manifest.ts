import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "resend",
  name: "Resend",
  category: "email",
  description: "Transactional email (first in the failover order).",
  auth: { kind: "api_key", fields: [{ name: "apiKey", label: "Resend API key", secret: true }] },
  capabilities: ["sendEmail", "deliveryEvents"],
  rateLimit: { requests: 10, perSeconds: 1, scope: "app" },
  docsUrl: "https://resend.com/docs/api-reference/emails/send-email",
};
