// Sign-in behaviour seen from the browser: the generic failure, and the audit trail of a success.
import { expect, test } from "@playwright/test";
import { fillSignIn, mainNav, pageHeading, signInStaff } from "./support/auth";
import { GENERIC_SIGN_IN_ERROR, SANDBOX } from "./support/env";

test.describe("sign-in", () => {
  test("a wrong password shows the generic message and stays on /login", async ({ page }) => {
    await fillSignIn(page, SANDBOX.integration, "not-the-password");
    const alert = page.getByRole("alert");
    await expect(alert).toHaveText(GENERIC_SIGN_IN_ERROR);
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
    // Still signed out: the console sends us back here.
    await page.goto("/console");
    await expect(page).toHaveURL(/\/login\?next=%2Fconsole$/);
  });

  test("an unknown email gets the very same message", async ({ page }) => {
    await fillSignIn(page, "nobody@sandbox.wedsync.test", SANDBOX.staffPassword);
    await expect(page.getByRole("alert")).toHaveText(GENERIC_SIGN_IN_ERROR);
    await expect(page).toHaveURL(/\/login$/);
  });

  test("ops opens the audit log and finds its own sign-in", async ({ page }) => {
    await signInStaff(page, SANDBOX.ops);
    await expect(page.getByRole("banner").locator(".role")).toHaveText("ops");
    await mainNav(page).getByRole("link", { name: "Audit log", exact: true }).click();
    await expect(page).toHaveURL(/\/console\/audit$/);
    await expect(pageHeading(page)).toHaveText("Audit log");

    const rows = page.getByRole("main").getByRole("table").locator("tbody tr");
    const ownSignIn = rows.filter({ has: page.getByRole("cell", { name: "session.sign_in", exact: true }) }).filter({
      has: page.getByRole("cell", { name: SANDBOX.ops, exact: true }),
    });
    await expect(ownSignIn.first()).toBeVisible();
    // Newest first: this session's sign-in is the top entry of the log.
    await expect(rows.first().locator("td").nth(1)).toHaveText(SANDBOX.ops);
    await expect(rows.first().locator("td").nth(2)).toHaveText("session.sign_in");
  });
});
