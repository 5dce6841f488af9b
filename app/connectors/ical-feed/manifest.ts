import type { ConnectorManifest } from "../types";

export const manifest: ConnectorManifest = {
  id: "ical-feed",
  name: "iCal feed",
  category: "calendar",
  description: "A private, revocable iCalendar (RFC 5545) feed URL of the vendor's weddings, for any calendar app.",
  auth: { kind: "none" },
  capabilities: ["feed"],
  rateLimit: { requests: 60, perSeconds: 60, scope: "account" },
  docsUrl: "https://www.rfc-editor.org/rfc/rfc5545",
};
