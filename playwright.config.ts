// End-to-end tests: the real hub (Express + Remix + embedded PostgreSQL) in
// sandbox mode on a fresh data folder, driven by Chromium. `npm test` builds
// first (`npm run build`), so the web server here only starts the built app.
import fs from "node:fs";
import { defineConfig } from "@playwright/test";
import { BASE_URL, E2E_DATA_DIR, E2E_PG_PORT, E2E_PORT, SANDBOX } from "./e2e/support/env";

// Never download browsers: use Debian's Chromium when present, else whatever
// Playwright already has (no executablePath).
const SYSTEM_CHROMIUM = "/usr/bin/chromium";
const executablePath = fs.existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined;
const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  testDir: "./e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results/e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  reporter: "list",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: { browserName: "chromium", launchOptions: { executablePath, args } },
    },
  ],
  webServer: {
    // Empties HUB_DATA_DIR, then runs `server.ts` in its own process group (see the file for why).
    command: "node --import tsx e2e/support/web-server.ts",
    url: `${BASE_URL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    // SIGTERM lets the hub drain and stop its embedded PostgreSQL in order; the
    // wrapper force-kills after 15 s, Playwright SIGKILLs its own group after 20 s.
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    env: {
      HUB_MODE: "sandbox",
      // Empty means unset: always the embedded database, generated secrets.
      DATABASE_URL: "",
      HUB_ENCRYPTION_KEYS: "",
      SESSION_SECRET: "",
      HOST: "127.0.0.1",
      HUB_DATA_DIR: E2E_DATA_DIR,
      PORT: String(E2E_PORT),
      EMBEDDED_PG_PORT: String(E2E_PG_PORT),
      SIMULATOR_BASE_PORT: "4410",
      SANDBOX_SEED: "true",
      SANDBOX_ADMIN_PASSWORD: SANDBOX.staffPassword,
      SANDBOX_VENDOR_PASSWORD: SANDBOX.vendorPassword,
      LOG_LEVEL: "warn",
    },
  },
});
