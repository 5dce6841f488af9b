// Vendor connections through the real pages and the sandbox OAuth simulator's
// consent page (another origin: 127.0.0.1:<SIMULATOR_BASE_PORT + index>).
import { expect, type Page, type TestInfo } from "@playwright/test";
import { SANDBOX_OAUTH_USERS } from "../../simulators/oauth/sandbox";
import { query } from "./db";
import { signInVendor } from "./auth";
import { SANDBOX } from "./env";

/** The Google simulator's origin; it is the first simulator in simulators/index.ts (base port + 0). */
export function googleSimulatorOrigin(testInfo: TestInfo): string {
  const port = Number(testInfo.config.webServer?.env?.SIMULATOR_BASE_PORT);
  if (!port) throw new Error("playwright.config.ts must set SIMULATOR_BASE_PORT in webServer.env");
  return `http://127.0.0.1:${port}`;
}

/** The simulator's option value for a sandbox account (its Google `sub`). */
export function googleAccountId(email: string): string {
  const user = SANDBOX_OAUTH_USERS.google.find((u) => u.email === email);
  if (!user) throw new Error(`no Google simulator account for ${email}`);
  return user.id;
}

/** The vendor area's row for a connector ("Connected as …", status, Disconnect). */
export function connectionRow(page: Page, connectorId: string) {
  return page.getByRole("main").locator(`tr[data-connection="${connectorId}"]`);
}

/**
 * From /vendor/connections, starts "Connect Google Calendar" and waits for the
 * simulator's consent page; answers the authorize URL the hub sent the browser to.
 */
export async function openGoogleConsent(page: Page, testInfo: TestInfo): Promise<URL> {
  const origin = googleSimulatorOrigin(testInfo);
  const [authorize] = await Promise.all([
    page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).origin === origin),
    page.getByRole("button", { name: "Connect Google Calendar" }).click(),
  ]);
  await page.waitForURL((url) => url.origin === origin);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Google");
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Deny" })).toBeVisible();
  return new URL(authorize.url());
}

/** Active (not disconnected) connections of the vendor user with this email, straight from the database. */
export async function activeConnectionsOf(email: string): Promise<{ id: string; connector_id: string }[]> {
  return query<{ id: string; connector_id: string }>(
    `select c.id, c.connector_id
       from connections c
       join users u on u.supplier_id = c.supplier_id
      where u.email = $1 and c.status <> 'disconnected'`,
    [email],
  );
}

/**
 * Leaves the vendor with no connections, through the vendor's own Disconnect
 * buttons (other specs expect a sandbox without connections). Does nothing when
 * there is nothing to disconnect.
 */
export async function disconnectAll(page: Page, email: string = SANDBOX.vendor.email): Promise<void> {
  if ((await activeConnectionsOf(email)).length === 0) return;
  await signInVendor(page, email);
  await page.goto("/vendor/connections");
  const buttons = page.getByRole("main").getByRole("button", { name: /^Disconnect / });
  for (let left = await buttons.count(); left > 0; left--) {
    await buttons.first().click();
    await expect(buttons).toHaveCount(left - 1);
  }
  expect(await activeConnectionsOf(email)).toEqual([]);
}
