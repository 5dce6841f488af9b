import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "honeybook",
  name: "HoneyBook",
  category: "crm",
  description: "Import HoneyBook projects and their clients (OAuth 2.0; HoneyBook's API is partner-only).",
  auth: {
    kind: "oauth2",
    endpoints: {
      authorizeUrl: "https://www.honeybook.com/oauth/authorize",
      tokenUrl: "https://api.honeybook.com/oauth/token",
      revokeUrl: "https://api.honeybook.com/oauth/revoke",
      userinfoUrl: "https://api.honeybook.com/api/v2/users/me",
    },
    simulatorPaths: {
      authorizeUrl: "/oauth/authorize",
      tokenUrl: "/oauth/token",
      revokeUrl: "/oauth/revoke",
      userinfoUrl: "/api/v2/users/me",
    },
    scopes: ["projects:read", "contacts:read"],
    identity: { id: ["_id", "id"], label: ["email", "full_name"] },
  },
  capabilities: ["importClients", "receiveWebhooks"],
  rateLimit: { requests: 120, perSeconds: 60, scope: "account" },
  docsUrl: "https://www.honeybook.com/",
  simulator: "honeybook",
};
