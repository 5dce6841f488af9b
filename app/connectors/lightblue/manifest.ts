import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "lightblue",
  name: "LightBlue",
  category: "crm",
  description: "LightBlue has no API: the hub signs in to its web portal and reads the client list, politely rate-limited.",
  auth: {
    kind: "basic",
    fields: [
      {
        name: "username",
        label: "LightBlue username",
        secret: false,
        help: "The login you use for LightBlue (sandbox: sandbox-studio)",
      },
      { name: "password", label: "LightBlue password", secret: true, help: "Stored encrypted (sandbox: lightblue-sandbox-pass)" },
    ],
  },
  capabilities: ["importClients"],
  // No published limit (no API): one page a second, politely; staff may change it (connector settings.rateLimit).
  rateLimit: { requests: 1, perSeconds: 1, scope: "account" },
  docsUrl: "https://www.lightblue.software/",
};
