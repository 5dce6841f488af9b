import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "lightblue",
  name: "LightBlue",
  category: "crm",
  description: "LightBlue has no API: the hub signs in to its web portal and reads the client list, politely rate-limited.",
  auth: {
    kind: "basic",
    fields: [
      { name: "username", label: "LightBlue username", secret: false },
      { name: "password", label: "LightBlue password", secret: true },
    ],
  },
  capabilities: ["importClients"],
  rateLimit: { requests: 20, perSeconds: 60, scope: "account" },
  docsUrl: "https://www.lightblue.software/",
};
