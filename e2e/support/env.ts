// The one place the e2e ports, folders and sandbox accounts are named; the
// Playwright config starts the hub with these, the specs sign in with them.
export const E2E_PORT = 3110;
export const E2E_PG_PORT = 54410;
export const E2E_DATA_DIR = ".data/e2e";
export const BASE_URL = `http://127.0.0.1:${E2E_PORT}`;
/** The embedded PostgreSQL of the hub under test (sandbox credentials). */
export const E2E_DATABASE_URL = `postgres://hub:hub@127.0.0.1:${E2E_PG_PORT}/hub`;

export const SANDBOX = {
  staffPassword: "e2e-staff-password",
  vendorPassword: "e2e-vendor-password",
  admin: "admin@sandbox.wedsync.test",
  integration: "integration@sandbox.wedsync.test",
  ops: "ops@sandbox.wedsync.test",
  vendor: { email: "vendor@sandbox.wedsync.test", supplier: "Lumen & Lace Photography" },
  vendor2: { email: "vendor2@sandbox.wedsync.test", supplier: "Olive Branch Catering" },
} as const;

export const GENERIC_SIGN_IN_ERROR = "That email and password do not match an account. Check both and try again.";

/** Console navigation, in the order of the sidebar: link label, path, page heading. */
export const CONSOLE_PAGES = [
  { label: "Dashboard", path: "/console", heading: "Dashboard" },
  { label: "Wedding day", path: "/console/wedding-day", heading: "Wedding day" },
  { label: "Couples & core fields", path: "/console/couples", heading: "Couples & core fields" },
  { label: "Connectors", path: "/console/connectors", heading: "Connectors" },
  { label: "Connections", path: "/console/connections", heading: "Connections", empty: "No vendor connections yet" },
  { label: "Calendar sync", path: "/console/calendars", heading: "Calendar sync", empty: "No calendar connections yet" },
  { label: "Mappings", path: "/console/mappings", heading: "Mappings" },
  { label: "Sync runs", path: "/console/sync-runs", heading: "Sync runs", empty: "No sync runs yet" },
  { label: "Imports", path: "/console/imports", heading: "Imports", empty: "No CRM connections to import from" },
  { label: "Webhooks", path: "/console/webhooks", heading: "Webhooks", empty: "No webhook endpoints yet" },
  { label: "Webhooks out", path: "/console/webhooks/out", heading: "Webhooks out" },
  { label: "Messages", path: "/console/messages", heading: "Messages", empty: "No messages sent yet" },
  { label: "Audit log", path: "/console/audit", heading: "Audit log" },
] as const;
