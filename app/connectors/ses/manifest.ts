import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "ses",
  name: "Amazon SES",
  category: "email",
  description: "Transactional email through SES v2 (third in the failover order).",
  auth: {
    kind: "api_key",
    fields: [
      { name: "region", label: "AWS region", secret: false },
      { name: "accessKeyId", label: "Access key id", secret: false },
      { name: "secretAccessKey", label: "Secret access key", secret: true },
    ],
  },
  capabilities: ["sendEmail", "deliveryEvents"],
  rateLimit: { requests: 14, perSeconds: 1, scope: "app" },
  docsUrl: "https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html",
};
