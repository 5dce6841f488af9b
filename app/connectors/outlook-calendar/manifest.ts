import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "outlook-calendar",
  name: "Outlook Calendar (Microsoft 365)",
  category: "calendar",
  description: "Wedding events in Outlook through Microsoft Graph; busy times back through calendar delta.",
  auth: {
    kind: "oauth2",
    endpoints: {
      authorizeUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
      userinfoUrl: "https://graph.microsoft.com/v1.0/me",
    },
    simulatorPaths: {
      authorizeUrl: "/common/oauth2/v2.0/authorize",
      tokenUrl: "/common/oauth2/v2.0/token",
      userinfoUrl: "/v1.0/me",
    },
    scopes: ["openid", "email", "offline_access", "User.Read", "Calendars.ReadWrite"],
    identity: { id: ["id"], label: ["mail", "userPrincipalName", "displayName"] },
  },
  capabilities: ["pushEvents", "pullAvailability", "receiveWebhooks"],
  rateLimit: { requests: 10000, perSeconds: 600, scope: "account" },
  docsUrl: "https://learn.microsoft.com/graph/api/resources/event",
  simulator: "microsoft",
};
