import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "tave",
  name: "Tave",
  category: "crm",
  description: "Import a studio's Tave clients and jobs into WedSync.",
  auth: {
    kind: "api_key",
    fields: [
      {
        name: "apiKey",
        label: "Tave API key",
        secret: true,
        help: "Tave → Settings → API & Webhooks (sandbox: tave-sandbox-key)",
      },
    ],
  },
  capabilities: ["importClients", "receiveWebhooks"],
  rateLimit: { requests: 100, perSeconds: 60, scope: "account" },
  docsUrl: "https://tave.io/v2",
};
