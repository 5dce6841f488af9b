import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "seventeen-hats",
  name: "17hats",
  category: "crm",
  description: "Import 17hats contacts and projects.",
  auth: {
    kind: "api_key",
    fields: [
      {
        name: "apiKey",
        label: "17hats API key",
        secret: true,
        help: "17hats → Settings → Integrations → API key (sandbox: seventeen-hats-sandbox-key)",
      },
    ],
  },
  capabilities: ["importClients"],
  rateLimit: { requests: 60, perSeconds: 60, scope: "account" },
  docsUrl: "https://www.17hats.com/",
};
