// Vendor connections through the sandbox Google OAuth simulator (a real
// redirect to another origin and back), and what staff see of them: the
// console's Connections and Connectors pages.
import { expect, test, type Page } from "@playwright/test";
import { mainNav, pageHeading, signInStaff, signInVendor } from "./support/auth";
import {
  activeConnectionsOf,
  connectionRow,
  disconnectAll,
  googleAccountId,
  googleSimulatorOrigin,
  openGoogleConsent,
} from "./support/connections";
import { BASE_URL, SANDBOX } from "./support/env";

const { email, supplier } = SANDBOX.vendor;
const CALLBACK = `${BASE_URL}/oauth/callback/google-calendar`;

async function openVendorConnections(page: Page) {
  await mainNav(page).getByRole("link", { name: "Connections" }).click();
  await expect(page).toHaveURL(/\/vendor\/connections$/);
  await expect(pageHeading(page)).toHaveText("Connections");
}

/** Consent as the vendor's own sandbox account; back on the hub with "Connected as …". */
async function allowAsVendor(page: Page) {
  await page.getByLabel("Account").selectOption(googleAccountId(email));
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.origin === BASE_URL && url.pathname === "/vendor/connections");
  await expect(page.getByRole("status")).toHaveText(`Connected as ${email}.`);
  await expect(connectionRow(page, "google-calendar")).toContainText(`Connected as ${email}`);
}

function connectorCard(page: Page, name: string) {
  return page.getByRole("main").getByRole("article", { name, exact: true });
}

test.describe("vendor connections", () => {
  // Other specs expect a sandbox without connections: leave none behind, even when a step fails.
  test.afterEach(async ({ browser }) => {
    const context = await browser.newContext({ baseURL: BASE_URL });
    try {
      await disconnectAll(await context.newPage(), email);
    } finally {
      await context.close();
    }
  });

  test("vendor connects Google Calendar at the consent page, then disconnects", async ({ page }, testInfo) => {
    expect(await activeConnectionsOf(email)).toEqual([]);

    await test.step("Connections shows nothing connected yet", async () => {
      await signInVendor(page, email);
      await openVendorConnections(page);
      await expect(page.getByText("Nothing connected yet.")).toBeVisible();
    });

    await test.step("Connect Google Calendar leads to the simulator's consent page", async () => {
      const authorize = await openGoogleConsent(page, testInfo);
      expect(authorize.origin).toBe(googleSimulatorOrigin(testInfo));
      expect(authorize.origin).not.toBe(BASE_URL);
      // The hub sends its own (registered) callback on the origin the browser uses, with PKCE.
      expect(authorize.searchParams.get("redirect_uri")).toBe(CALLBACK);
      expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
      expect(authorize.searchParams.get("state")).toBeTruthy();
      await expect(page.locator(".client-id")).toHaveText("hub-sandbox-google");
    });

    await test.step("Allow returns to the hub: Connected as the vendor's account", async () => {
      await allowAsVendor(page);
      const row = connectionRow(page, "google-calendar");
      await expect(row.getByRole("cell").first()).toHaveText("Google Calendar");
      await expect(row.locator(".badge")).toHaveText("Connected");
      await expect(row).toContainText("https://www.googleapis.com/auth/calendar.events");
      expect(await activeConnectionsOf(email)).toHaveLength(1);

      const file = testInfo.outputPath("connected.png");
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach("connected", { path: file, contentType: "image/png" });
    });

    await test.step("Disconnect removes it", async () => {
      await connectionRow(page, "google-calendar").getByRole("button", { name: "Disconnect Google Calendar" }).click();
      await expect(page.getByRole("status")).toContainText("Disconnected.");
      await expect(connectionRow(page, "google-calendar")).toHaveCount(0);
      await expect(page.getByText("Nothing connected yet.")).toBeVisible();
      await expect(page.getByText(`Connected as ${email}`)).toHaveCount(0);
      expect(await activeConnectionsOf(email)).toEqual([]);
    });
  });

  test("Deny at the consent page connects nothing and says so", async ({ page }, testInfo) => {
    await signInVendor(page, email);
    await openVendorConnections(page);
    await openGoogleConsent(page, testInfo);

    const [callback] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${CALLBACK}?`)),
      page.getByRole("button", { name: "Deny" }).click(),
    ]);
    expect(callback.status()).toBe(400);
    expect(new URL(callback.url()).searchParams.get("error")).toBe("access_denied");
    await expect(pageHeading(page)).toHaveText("Connection not completed");
    await expect(page.getByRole("alert")).toContainText("You declined access at Google Calendar; nothing was connected.");

    await page.getByRole("link", { name: "Back to Connections" }).click();
    await expect(page).toHaveURL(/\/vendor\/connections$/);
    await expect(page.getByText("Nothing connected yet.")).toBeVisible();
    expect(await activeConnectionsOf(email)).toEqual([]);
  });

  test("staff see a vendor's connection, refresh its token, and the Google connector in sandbox", async ({
    page,
    browser,
  }, testInfo) => {
    await test.step("the vendor connects Google Calendar", async () => {
      await signInVendor(page, email);
      await openVendorConnections(page);
      await openGoogleConsent(page, testInfo);
      await allowAsVendor(page);
    });

    const staffContext = await browser.newContext({ baseURL: BASE_URL });
    try {
      const staff = await staffContext.newPage();
      await signInStaff(staff, SANDBOX.admin);

      await test.step("Connections lists it with its health", async () => {
        await mainNav(staff).getByRole("link", { name: "Connections", exact: true }).click();
        await expect(pageHeading(staff)).toHaveText("Connections");
        await expect(staff.getByRole("region", { name: "No vendor connections yet" })).toHaveCount(0);
        const rows = staff.getByRole("main").locator("tbody tr");
        await expect(rows).toHaveCount(1);
        const row = rows.first();
        await expect(row).toHaveAttribute("data-connector", "google-calendar");
        const cells = row.getByRole("cell");
        await expect(cells.nth(0)).toHaveText(supplier);
        await expect(cells.nth(1)).toHaveText("Google Calendar");
        await expect(cells.nth(2)).toHaveText(`Connected as ${email}`);
        await expect(cells.nth(3)).toHaveText("active");
        await expect(cells.nth(4)).toContainText("https://www.googleapis.com/auth/calendar.readonly");
        await expect(cells.nth(5)).toContainText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
        await expect(cells.nth(5)).toContainText(/in \d+ (minute|hour)s?/);
        await expect(cells.nth(6)).toHaveText("not yet");
        await expect(cells.nth(7)).toHaveText("–");

        await row.getByRole("button", { name: /^Refresh token now/ }).click();
        await expect(staff.getByRole("status")).toContainText(
          `Token refreshed for ${supplier}'s Google Calendar connection (${email}). The new token expires at`,
        );
        await expect(cells.nth(6)).toContainText(/UTC/);
        await expect(cells.nth(3)).toHaveText("active");

        const file = testInfo.outputPath("console-connections.png");
        await staff.screenshot({ path: file, fullPage: true });
        await testInfo.attach("console-connections", { path: file, contentType: "image/png" });
      });

      await test.step("Connectors shows Google Calendar in sandbox state with one active connection", async () => {
        await mainNav(staff).getByRole("link", { name: "Connectors", exact: true }).click();
        await expect(pageHeading(staff)).toHaveText("Connectors");
        const google = connectorCard(staff, "Google Calendar");
        await expect(google.locator(".badge")).toHaveText("sandbox");
        await expect(google.getByTestId("active-connections")).toHaveText("1");
        await expect(google).toContainText("OAuth 2.0");
        await expect(google).toContainText("600 requests per minute, per connected account");
        await expect(google.getByRole("link", { name: /Google Calendar API reference/ })).toHaveAttribute(
          "href",
          "https://developers.google.com/calendar/api/v3/reference",
        );
        await expect(connectorCard(staff, "iCal feed").locator(".badge")).toHaveText("no credentials needed");
        await expect(staff.getByRole("heading", { level: 2 })).toHaveText(["Calendars", "CRMs", "Email", "SMS"]);

        const file = testInfo.outputPath("console-connectors.png");
        await staff.screenshot({ path: file, fullPage: true });
        await testInfo.attach("console-connectors", { path: file, contentType: "image/png" });
      });

      await test.step("once the vendor disconnects, the console shows no connections", async () => {
        await page.goto("/vendor/connections");
        await connectionRow(page, "google-calendar").getByRole("button", { name: "Disconnect Google Calendar" }).click();
        await expect(connectionRow(page, "google-calendar")).toHaveCount(0);

        await staff.goto("/console/connections");
        await expect(staff.getByRole("region", { name: "No vendor connections yet" })).toBeVisible();
        await expect(staff.getByRole("main").getByRole("table")).toHaveCount(0);
      });
    } finally {
      await staffContext.close();
    }
  });
});

test.describe("connector settings", () => {
  const OUTLOOK = "Outlook Calendar (Microsoft 365)";
  const SECRET = "e2e-outlook-client-secret-value";

  test("integration staff save OAuth client settings; the secret is never shown", async ({ page }) => {
    await signInStaff(page, SANDBOX.integration);
    await page.goto("/console/connectors");
    const card = connectorCard(page, OUTLOOK);
    await expect(card.locator(".badge")).toHaveText("sandbox");
    await card.getByText("OAuth client settings").click();
    const form = card.getByRole("form", { name: `${OUTLOOK} settings` });

    await test.step("an invalid client id is refused per field (nothing saved)", async () => {
      await form.getByLabel("OAuth client id").fill("x".repeat(501));
      const [answer] = await Promise.all([
        page.waitForResponse(
          (r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/console/connectors"),
        ),
        form.getByRole("button", { name: `Save ${OUTLOOK} settings` }).click(),
      ]);
      expect(answer.status()).toBe(422);
      await expect(form.getByRole("alert")).toContainText(`${OUTLOOK} settings were not saved`);
      await expect(form.getByLabel("OAuth client id")).toHaveAttribute("aria-invalid", "true");
      await expect(form.locator(".field-error")).toHaveCount(1);
      await expect(card.locator(".badge")).toHaveText("sandbox");
    });

    await test.step("client id, secret and scopes are saved: configured", async () => {
      await form.getByLabel("OAuth client id").fill("e2e-outlook-client");
      await form.getByLabel("Client secret").fill(SECRET);
      await form.getByLabel("Scopes").fill("openid email\noffline_access\n  Calendars.ReadWrite");
      await form.getByRole("button", { name: `Save ${OUTLOOK} settings` }).click();
      await expect(card.getByRole("status")).toHaveText(
        `${OUTLOOK} settings saved (enabled, new client secret stored, 4 scopes).`,
      );
      await expect(card.locator(".badge")).toHaveText("configured");
      await expect(form.getByLabel("Client secret")).toHaveValue("");
      await expect(form.getByText("A secret is stored.")).toBeVisible();
      await expect(form.getByLabel("OAuth client id")).toHaveValue("e2e-outlook-client");
      await expect(form.getByLabel("Scopes")).toHaveValue("openid\nemail\noffline_access\nCalendars.ReadWrite");
      // Not in the page, not in its data.
      expect(await page.content()).not.toContain(SECRET);
      await page.reload();
      expect(await page.content()).not.toContain(SECRET);
    });

    await test.step("clearing the client id (secret kept) falls back to the sandbox simulator", async () => {
      const again = connectorCard(page, OUTLOOK);
      await again.getByText("OAuth client settings").click();
      const form2 = again.getByRole("form", { name: `${OUTLOOK} settings` });
      await form2.getByLabel("OAuth client id").fill("");
      await form2.getByLabel("Scopes").fill("");
      await form2.getByRole("button", { name: `Save ${OUTLOOK} settings` }).click();
      await expect(again.getByRole("status")).toHaveText(`${OUTLOOK} settings saved (enabled, default scopes).`);
      await expect(again.locator(".badge")).toHaveText("sandbox");
      await expect(form2.getByText("A secret is stored.")).toBeVisible();
    });
  });

  test("ops may look but not change settings; integration may not refresh tokens (403)", async ({ page }) => {
    const csrf = () => page.locator('input[name="_csrf"]').first().inputValue();

    await signInStaff(page, SANDBOX.ops);
    await page.goto("/console/connectors");
    const card = connectorCard(page, "Google Calendar");
    await card.getByText("OAuth client settings").click();
    await expect(card.getByText("Only admin and integration staff can change connector settings.")).toBeVisible();
    await expect(card.getByRole("form")).toHaveCount(0);
    await expect(card.getByRole("textbox")).toHaveCount(0);
    const refused = await page.request.post("/console/connectors", {
      form: { _csrf: await csrf(), intent: "settings", connectorId: "google-calendar", clientId: "ops-was-here" },
      maxRedirects: 0,
    });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain("needs the admin or integration role; you are signed in as ops");
    await page.reload();
    await expect(connectorCard(page, "Google Calendar").locator(".badge")).toHaveText("sandbox");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await signInStaff(page, SANDBOX.integration);
    await page.goto("/console/connections");
    const notAllowed = await page.request.post("/console/connections", {
      form: { _csrf: await csrf(), intent: "refresh", connectionId: "00000000-0000-0000-0000-000000000000" },
      maxRedirects: 0,
    });
    expect(notAllowed.status()).toBe(403);
    expect(await notAllowed.text()).toContain("needs the admin or ops role; you are signed in as integration");
  });
});
