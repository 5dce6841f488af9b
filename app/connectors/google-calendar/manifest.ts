import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "google-calendar",
  name: "Google Calendar",
  category: "calendar",
  description: "Wedding events in the vendor's Google Calendar; busy times back as availability.",
  auth: {
    kind: "oauth2",
    endpoints: {
      authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      revokeUrl: "https://oauth2.googleapis.com/revoke",
      userinfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
    },
    simulatorPaths: {
      authorizeUrl: "/o/oauth2/v2/auth",
      tokenUrl: "/token",
      revokeUrl: "/revoke",
      userinfoUrl: "/oauth2/v3/userinfo",
    },
    scopes: [
      "openid",
      "email",
      "profile",
      "https://www.googleapis.com/auth/calendar.events",
      "https://www.googleapis.com/auth/calendar.readonly",
    ],
    // Google issues a refresh token only for offline access, and again only with prompt=consent.
    authorizeParams: { access_type: "offline", prompt: "consent", include_granted_scopes: "true" },
    identity: { id: ["sub"], label: ["email", "name"] },
  },
  capabilities: ["pushEvents", "pullAvailability", "receiveWebhooks"],
  rateLimit: { requests: 600, perSeconds: 60, scope: "account" },
  docsUrl: "https://developers.google.com/calendar/api/v3/reference",
  simulator: "google",
};
