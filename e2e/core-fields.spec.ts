// Editing core fields in the console, seen live in other browsers: two staff
// editors on one couple (live update, version conflict, save again), a role that
// may only look, and a vendor watching its couple change.
import { expect, test, type Browser, type Page } from "@playwright/test";
import { signInStaff, signInVendor } from "./support/auth";
import {
  coreFieldsOf,
  couplesOfVendorLatestFirst,
  expectLive,
  expectSameDocument,
  liveNotice,
  markDocument,
  shownValue,
} from "./support/core-fields";
import { SANDBOX } from "./support/env";

/** Console errors (hydration mismatches, failed requests, exceptions) per page, checked at the end of each test. */
const consoleErrors = new Map<Page, string[]>();
function watchConsole(page: Page): Page {
  const errors: string[] = [];
  consoleErrors.set(page, errors);
  page.on("console", (m) => {
    // The refused saves these specs make on purpose are logged by Chromium as failed loads.
    if (m.type() === "error" && !/status of (403|409|422)\b/.test(m.text())) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return page;
}
function expectNoConsoleErrors(...pages: Page[]): void {
  for (const page of pages) expect(consoleErrors.get(page) ?? []).toEqual([]);
}

/** A page in its own browser context (its own cookies), signed in as `email`. */
async function staffPage(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext();
  const page = watchConsole(await context.newPage());
  await signInStaff(page, email);
  return page;
}

const editor = (page: Page) => page.getByRole("region", { name: "Edit fields" });
const input = (page: Page, label: string) => editor(page).getByLabel(label, { exact: true });
const saveButton = (page: Page) => editor(page).getByRole("button", { name: "Save changes" });

test.describe("core-field editor", () => {
  test("two editors: a saved change appears live, a stale form gets a conflict, saving again succeeds", async ({
    browser,
  }, testInfo) => {
    const [couple] = await couplesOfVendorLatestFirst(SANDBOX.vendor.email);
    if (!couple) throw new Error("the sandbox vendor has no couples");
    const start = await coreFieldsOf(couple.id);
    const guests = Number(start.fields.guestCount);
    const style = String(start.fields.style);
    const path = `/console/couples/${couple.id}`;

    const a = await staffPage(browser, SANDBOX.admin);
    const b = await staffPage(browser, SANDBOX.ops);
    try {
      await test.step("both editors open the couple, prefilled from the current version", async () => {
        for (const page of [a, b]) {
          await page.goto(path);
          await expect(page.getByRole("heading", { level: 1 })).toHaveText(couple.display_name);
          await expectLive(page);
          await expect(input(page, "Guest count")).toHaveValue(String(guests));
          await expect(input(page, "Style")).toHaveValue(style);
          await expect(editor(page).locator('input[name="version"]')).toHaveValue(String(start.version));
          await markDocument(page);
        }
        // Inputs are typed by kind and labelled from the schema.
        await expect(input(a, "Wedding date")).toHaveAttribute("type", "date");
        await expect(input(a, "Ceremony time")).toHaveAttribute("type", "time");
        await expect(input(a, "Partner 1 email")).toHaveAttribute("type", "email");
        await expect(input(a, "Partner 1 phone")).toHaveAttribute("type", "tel");
        await expect(input(a, "Guest count")).toHaveAttribute("type", "number");
        await expect(input(a, "Time zone")).toHaveAttribute("type", "text");
        await expect(editor(a).getByRole("group", { name: "Guests" })).toBeVisible();
      });

      await test.step("B starts editing (style), so B's form stays on the version it was opened at", async () => {
        await input(b, "Style").fill("garden party");
      });

      await test.step("A changes the guest count and saves", async () => {
        await input(a, "Guest count").fill(String(guests + 30));
        await saveButton(a).click();
        await expect(editor(a).getByRole("status")).toHaveText(`Saved version ${start.version + 1}.`);
        await expect(shownValue(a, "Guest count")).toHaveText(String(guests + 30));
      });

      await test.step("B sees the new value and a live notice without reloading; its own edit is untouched", async () => {
        await expect(shownValue(b, "Guest count")).toHaveText(String(guests + 30));
        await expect(liveNotice(b)).toHaveText(`Updated by ${SANDBOX.admin} just now: Guest count ${guests} → ${guests + 30}`);
        await expect(input(b, "Style")).toHaveValue("garden party");
        // The form still says what B started from, and why that matters.
        await expect(input(b, "Guest count")).toHaveValue(String(guests));
        await expect(editor(b).locator('input[name="version"]')).toHaveValue(String(start.version));
        await expect(editor(b).getByText(`Someone else saved version ${start.version + 1}`)).toBeVisible();
        await expectSameDocument(b);
      });

      await test.step("B saves the stale form: a conflict, and the form shows the fresh values", async () => {
        const [response] = await Promise.all([
          b.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith(path)),
          saveButton(b).click(),
        ]);
        expect(response.status()).toBe(409);
        const alert = editor(b).getByRole("alert");
        await expect(alert).toContainText(
          `Someone else changed these fields while you were editing (now version ${start.version + 1}). Their change is shown below; review it and save again.`,
        );
        await expect(alert).toContainText(`Changed by ${SANDBOX.admin}: Guest count ${guests} → ${guests + 30}.`);
        await expect(alert).toBeFocused();
        // Re-based on the fresh version: their guest count, B's style.
        await expect(editor(b).locator('input[name="version"]')).toHaveValue(String(start.version + 1));
        await expect(input(b, "Guest count")).toHaveValue(String(guests + 30));
        await expect(input(b, "Guest count")).toHaveAccessibleDescription(`Changed by someone else: ${guests} → ${guests + 30}.`);
        await expect(input(b, "Style")).toHaveValue("garden party");
        // Nothing of B's was written.
        expect((await coreFieldsOf(couple.id)).fields.style).toBe(style);

        const file = testInfo.outputPath("core-fields-conflict.png");
        await b.screenshot({ path: file, fullPage: true });
        await testInfo.attach("core-fields-conflict", { path: file, contentType: "image/png" });
      });

      await test.step("B saves again and it succeeds", async () => {
        await saveButton(b).click();
        await expect(editor(b).getByRole("status")).toHaveText(`Saved version ${start.version + 2}.`);
        await expect(shownValue(b, "Style")).toHaveText("garden party");
        const stored = await coreFieldsOf(couple.id);
        expect(stored.version).toBe(start.version + 2);
        expect(stored.fields.guestCount).toBe(guests + 30);
        expect(stored.fields.style).toBe("garden party");
        await expectSameDocument(b);
      });

      await test.step("A's untouched form follows B's change live", async () => {
        await expect(input(a, "Style")).toHaveValue("garden party");
        await expect(shownValue(a, "Style")).toHaveText("garden party");
        await expect(liveNotice(a)).toHaveText(`Updated by ${SANDBOX.ops} just now: Style ${style} → garden party`);
        await expect(editor(a).locator('input[name="version"]')).toHaveValue(String(start.version + 2));
        // History records both saves with their source and actor.
        const history = a.getByRole("main").getByRole("table").locator("tbody tr");
        await expect(history.first().locator("td").nth(0)).toHaveText(String(start.version + 2));
        await expect(history.first().locator("td").nth(2)).toHaveText("console");
        await expect(history.first().locator("td").nth(3)).toHaveText(SANDBOX.ops);
        await expect(history.nth(1).locator("td").nth(3)).toHaveText(SANDBOX.admin);
        await expectSameDocument(a);
      });

      await test.step("an invalid value is refused with a message at the field, keeping what was typed", async () => {
        await input(a, "Partner 1 email").fill("not-an-email");
        await input(a, "Guest count").fill("6000");
        const [response] = await Promise.all([
          a.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith(path)),
          saveButton(a).click(),
        ]);
        expect(response.status()).toBe(422);
        await expect(editor(a).getByRole("alert")).toContainText("Some fields need attention; nothing was saved.");
        const email = input(a, "Partner 1 email");
        await expect(email).toHaveValue("not-an-email");
        await expect(email).toHaveAttribute("aria-invalid", "true");
        await expect(email).toHaveAccessibleDescription("Must be an email address like name@example.com.");
        await expect(input(a, "Guest count")).toHaveAccessibleDescription("Must be at most 5000.");
        await expect(input(a, "Style")).not.toHaveAttribute("aria-invalid", "true");
        expect((await coreFieldsOf(couple.id)).version).toBe(start.version + 2);
      });
      expectNoConsoleErrors(a, b);
    } finally {
      await a.context().close();
      await b.context().close();
    }
  });

  test("integration staff see the fields but cannot save (403)", async ({ page }) => {
    const [couple] = await couplesOfVendorLatestFirst(SANDBOX.vendor2.email);
    if (!couple) throw new Error("the second sandbox vendor has no couples");
    const before = await coreFieldsOf(couple.id);
    const path = `/console/couples/${couple.id}`;

    watchConsole(page);
    await signInStaff(page, SANDBOX.integration);
    await page.goto(path);
    await expectLive(page);
    await expect(editor(page)).toContainText(
      "Changing core fields needs the admin or ops role; you are signed in as integration.",
    );
    await expect(saveButton(page)).toHaveCount(0);
    await expect(editor(page).getByRole("textbox")).toHaveCount(0);

    // A form posted anyway (say, kept from before a role change) is refused by the server.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path),
      page.evaluate(
        ({ version }) => {
          const csrf = document.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? "";
          const form = document.createElement("form");
          form.method = "post";
          form.action = window.location.pathname;
          for (const [name, value] of Object.entries({ _csrf: csrf, version: String(version), guestCount: "999" })) {
            const field = document.createElement("input");
            field.type = "hidden";
            field.name = name;
            field.value = value;
            form.append(field);
          }
          document.body.append(form);
          form.submit();
        },
        { version: before.version },
      ),
    ]);
    expect(response.status()).toBe(403);
    await expect(editor(page).getByRole("alert")).toHaveText(
      "This needs the admin or ops role; you are signed in as integration.",
    );
    expect(await coreFieldsOf(couple.id)).toEqual(before);
    expectNoConsoleErrors(page);
  });

  test("a vendor sees staff changes to its couple without reloading", async ({ browser, page }) => {
    const [, couple] = await couplesOfVendorLatestFirst(SANDBOX.vendor.email);
    if (!couple) throw new Error("the sandbox vendor has fewer than two couples");
    const start = await coreFieldsOf(couple.id);
    const guests = Number(start.fields.guestCount);
    const staff = await staffPage(browser, SANDBOX.admin);
    try {
      await staff.goto(`/console/couples/${couple.id}`);
      await expectLive(staff);

      await test.step("the vendor's list of weddings updates live", async () => {
        watchConsole(page);
        await signInVendor(page, SANDBOX.vendor.email);
        await expectLive(page);
        await markDocument(page);
        const row = page
          .getByRole("main")
          .getByRole("row")
          .filter({ has: page.locator(`a[href="/vendor/couples/${couple.id}"]`) });
        await expect(row.getByRole("cell").nth(3)).toHaveText(String(guests));

        await input(staff, "Guest count").fill(String(guests + 12));
        await saveButton(staff).click();
        await expect(editor(staff).getByRole("status")).toHaveText(`Saved version ${start.version + 1}.`);

        await expect(row.getByRole("cell").nth(3)).toHaveText(String(guests + 12));
        await expect(liveNotice(page)).toHaveText(
          `${couple.display_name}: updated by ${SANDBOX.admin} just now: Guest count ${guests} → ${guests + 12}`,
        );
        await expectSameDocument(page);
      });

      await test.step("the couple's page in the vendor area updates live, read-only", async () => {
        await page.getByRole("main").locator(`a[href="/vendor/couples/${couple.id}"]`).click();
        await expect(page).toHaveURL(new RegExp(`/vendor/couples/${couple.id}$`));
        await expectLive(page);
        await markDocument(page);
        await expect(shownValue(page, "Ceremony time")).toHaveText(String(start.fields.ceremonyTime));
        await expect(page.getByRole("button", { name: "Save changes" })).toHaveCount(0);
        await expect(page.getByRole("main").getByRole("textbox")).toHaveCount(0);

        await input(staff, "Ceremony time").fill("11:15");
        await saveButton(staff).click();
        await expect(editor(staff).getByRole("status")).toHaveText(`Saved version ${start.version + 2}.`);

        await expect(shownValue(page, "Ceremony time")).toHaveText("11:15");
        await expect(liveNotice(page)).toHaveText(
          `Updated by ${SANDBOX.admin} just now: Ceremony time ${String(start.fields.ceremonyTime)} → 11:15`,
        );
        await expect(page.getByText(`Version ${start.version + 2}, updated`)).toBeVisible();
        await expectSameDocument(page);
      });
      expectNoConsoleErrors(page, staff);
    } finally {
      await staff.context().close();
    }
  });
});
