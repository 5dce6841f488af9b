import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "apple-calendar",
  name: "Apple Calendar (iCloud CalDAV)",
  category: "calendar",
  description: "Wedding events in iCloud over CalDAV, signed in with an app-specific password.",
  auth: {
    kind: "app_password",
    fields: [
      { name: "serverUrl", label: "CalDAV server", secret: false, help: "https://caldav.icloud.com for iCloud" },
      { name: "username", label: "Apple ID", secret: false },
      {
        name: "password",
        label: "App-specific password",
        secret: true,
        help: "Create one at appleid.apple.com → Sign-In and Security",
      },
    ],
  },
  capabilities: ["pushEvents", "pullAvailability"],
  rateLimit: { requests: 60, perSeconds: 60, scope: "account" },
  docsUrl: "https://www.rfc-editor.org/rfc/rfc4791",
};
