// Signing in and out through the real login form, as a person would.
import { expect, type Page } from "@playwright/test";
import { SANDBOX } from "./env";

export async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the Integration Hub" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in a staff member and waits for the console dashboard. */
export async function signInStaff(page: Page, email: string = SANDBOX.admin): Promise<void> {
  await fillSignIn(page, email, SANDBOX.staffPassword);
  await expect(page).toHaveURL(/\/console$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
}

/** Signs in a vendor and waits for its area. */
export async function signInVendor(page: Page, email: string = SANDBOX.vendor.email): Promise<void> {
  await fillSignIn(page, email, SANDBOX.vendorPassword);
  await expect(page).toHaveURL(/\/vendor$/);
}

export function mainNav(page: Page) {
  return page.getByRole("navigation", { name: "Main" });
}

/** The page's h1 (the app shell and error page each render exactly one). */
export function pageHeading(page: Page) {
  return page.getByRole("heading", { level: 1 });
}
