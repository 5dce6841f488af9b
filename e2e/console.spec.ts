// Staff console: sign in, walk every section, open a couple, sign out.
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInStaff } from "./support/auth";
import { CONSOLE_PAGES, SANDBOX } from "./support/env";

test.describe("staff console", () => {
  test("admin signs in, visits every section, opens a couple and signs out", async ({ page }, testInfo) => {
    await test.step("sign in lands on the dashboard", async () => {
      await signInStaff(page, SANDBOX.admin);
      const topbar = page.getByRole("banner");
      await expect(topbar).toContainText("Sandbox Admin");
      await expect(topbar.locator(".role")).toHaveText("admin");
      // The sandbox world: 20 suppliers and 50 couples.
      const cards = page.locator(".cards .card");
      await expect(cards).toHaveCount(4);
      await expect(cards.filter({ hasText: "Suppliers" }).locator(".figure")).toHaveText("20");
      await expect(cards.filter({ hasText: "Couples" }).locator(".figure")).toHaveText("50");
      await expect(cards.filter({ hasText: "Connections" }).locator(".figure")).toHaveText("0");
    });

    await test.step("full-page screenshot of the dashboard", async () => {
      const file = testInfo.outputPath("dashboard.png");
      const png = await page.screenshot({ path: file, fullPage: true });
      expect(png.byteLength).toBeGreaterThan(1000);
      await testInfo.attach("dashboard", { path: file, contentType: "image/png" });
    });

    await test.step("every navigation item opens its page", async () => {
      const nav = mainNav(page);
      await expect(nav.getByRole("link")).toHaveCount(CONSOLE_PAGES.length);
      // Walk the list backwards so the first click (Audit log) really navigates away from the dashboard.
      for (const item of [...CONSOLE_PAGES].reverse()) {
        const link = nav.getByRole("link", { name: item.label, exact: true });
        await link.click();
        await expect(page).toHaveURL(new RegExp(`${item.path.replace(/\//g, "\\/")}$`));
        await expect(pageHeading(page)).toHaveText(item.heading);
        await expect(link).toHaveAttribute("aria-current", "page");
        if ("empty" in item) {
          // A fresh sandbox has none of these yet: the section explains itself instead of an empty table.
          await expect(page.getByRole("region", { name: item.empty })).toBeVisible();
          await expect(page.getByRole("main").getByRole("table")).toHaveCount(0);
        }
      }
    });

    await test.step("a couple shows its core fields and history", async () => {
      await mainNav(page).getByRole("link", { name: "Couples & core fields", exact: true }).click();
      await expect(pageHeading(page)).toHaveText("Couples & core fields");
      await expect(page.getByText("50 couples")).toBeVisible();
      const firstRow = page.getByRole("main").getByRole("table").locator("tbody tr").first();
      const link = firstRow.getByRole("link");
      const name = (await link.innerText()).trim();
      const guests = (await firstRow.locator("td").nth(3).innerText()).trim();
      expect(name).toMatch(/ & /);
      expect(guests).toMatch(/^\d+$/);

      await link.click();
      await expect(page).toHaveURL(/\/console\/couples\/[0-9a-f-]{36}$/);
      await expect(pageHeading(page)).toHaveText(name);
      await expect(page.getByRole("heading", { level: 2, name: "Core fields" })).toBeVisible();
      const guestCount = page.locator("dl.fields dt", { hasText: /^Guest count$/ });
      await expect(guestCount).toBeVisible();
      await expect(guestCount.locator("xpath=following-sibling::dd[1]")).toHaveText(guests);
      await expect(page.locator("dl.fields dt", { hasText: /^Venue name$/ })).toBeVisible();
      await expect(page.getByRole("heading", { level: 2, name: "Connected suppliers" })).toBeVisible();

      await expect(page.getByRole("heading", { level: 2, name: "History" })).toBeVisible();
      const history = page.getByRole("main").getByRole("table").locator("tbody tr");
      await expect(history).toHaveCount(1);
      const cells = history.first().locator("td");
      await expect(cells.nth(0)).toHaveText("1");
      await expect(cells.nth(2)).toHaveText("import");
      await expect(cells.nth(3)).toHaveText("sandbox seed");
      await expect(cells.nth(4)).toContainText(`Guest count: – → ${guests}`);
    });

    await test.step("sign out returns to the login page and closes the console", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(/\/login$/);
      await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

      const response = await page.goto("/console");
      expect(response?.ok()).toBe(true);
      await expect(page).toHaveURL(/\/login\?next=%2Fconsole$/);
      await expect(page.getByLabel("Email")).toBeVisible();
    });
  });
});
