// The vendor area: a supplier sees its own weddings and nothing else.
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInVendor } from "./support/auth";
import { couplesOfVendor, coupleNotConnectedToVendor } from "./support/db";
import { SANDBOX } from "./support/env";

const { email, supplier } = SANDBOX.vendor;

test.describe("vendor area", () => {
  test("vendor sees and opens its own couples only", async ({ page }, testInfo) => {
    const own = await couplesOfVendor(email);
    expect(own.length).toBeGreaterThan(0);

    await test.step("sign in lands on /vendor with the supplier's couples", async () => {
      await signInVendor(page, email);
      await expect(pageHeading(page)).toHaveText(supplier);
      const nav = mainNav(page);
      // My weddings, Connections, Calendar feed, Webhooks, Notifications.
      await expect(nav.getByRole("link")).toHaveCount(5);
      await expect(nav.getByRole("link", { name: "Connections" })).toBeVisible();
      await expect(nav.getByRole("link", { name: "My weddings" })).toHaveAttribute("aria-current", "page");
      await expect(page.getByText(`${own.length} connected wedding${own.length === 1 ? "" : "s"}`)).toBeVisible();

      const links = page.getByRole("main").getByRole("table").locator("tbody tr").getByRole("link");
      await expect(links).toHaveCount(own.length);
      const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      expect(hrefs.sort()).toEqual(own.map((c) => `/vendor/couples/${c.id}`).sort());
    });

    await test.step("screenshot of the vendor home", async () => {
      const file = testInfo.outputPath("vendor-home.png");
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach("vendor-home", { path: file, contentType: "image/png" });
    });

    await test.step("opening one of its couples shows the core fields", async () => {
      const couple = own[0]!;
      const path = `/vendor/couples/${couple.id}`;
      // A hydrated page fetches the loader data (single fetch: `<path>.data`); before
      // hydration the click is a document load of `<path>`. Either way the server answers 200.
      const [response] = await Promise.all([
        page.waitForResponse((r) => [path, `${path}.data`].includes(new URL(r.url()).pathname)),
        page.getByRole("main").locator(`a[href="${path}"]`).click(),
      ]);
      expect(response.status()).toBe(200);
      await expect(page).toHaveURL(new RegExp(`${path}$`));
      await expect(pageHeading(page)).toHaveText(couple.display_name);
      await expect(page.getByRole("heading", { level: 2, name: "Core fields" })).toBeVisible();
      await expect(page.locator("dl.fields dt", { hasText: /^Guest count$/ })).toBeVisible();
      await expect(page.locator("dl.fields dt", { hasText: /^Wedding date$/ })).toBeVisible();
      await expect(page.getByRole("main").getByRole("listitem").filter({ hasText: supplier })).toBeVisible();
      await expect(page.getByRole("heading", { level: 2, name: "History" })).toBeVisible();

      // A direct load of the same page is a 200 document too.
      const direct = await page.goto(path);
      expect(direct?.status()).toBe(200);
      await expect(pageHeading(page)).toHaveText(couple.display_name);
    });

    await test.step("another supplier's couple is Not found (404)", async () => {
      const other = await coupleNotConnectedToVendor(email);
      expect(other.suppliers).not.toContain(supplier);
      const response = await page.goto(`/vendor/couples/${other.id}`);
      expect(response?.status()).toBe(404);
      await expect(pageHeading(page)).toHaveText("Not found");
      await expect(page.getByText(other.display_name)).toHaveCount(0);

      const file = testInfo.outputPath("vendor-not-found.png");
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach("vendor-not-found", { path: file, contentType: "image/png" });
    });

    await test.step("the console does not exist for a vendor (404)", async () => {
      const response = await page.goto("/console");
      expect(response?.status()).toBe(404);
      await expect(page).toHaveURL(/\/console$/);
      await expect(pageHeading(page)).toHaveText("Not found");
      await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
    });
  });

  test("the second vendor sees a different supplier's weddings", async ({ page }) => {
    const mine = await couplesOfVendor(SANDBOX.vendor2.email);
    await signInVendor(page, SANDBOX.vendor2.email);
    await expect(pageHeading(page)).toHaveText(SANDBOX.vendor2.supplier);
    await expect(page.getByRole("main").getByRole("table").locator("tbody tr")).toHaveCount(mine.length);
  });
});
