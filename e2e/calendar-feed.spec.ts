// A vendor's private iCal feed: created on the Calendar feed page (the URL is
// shown once), read the way a calendar app reads it, revoked, and then gone (404).
import { expect, test } from "@playwright/test";
import ICAL from "ical.js";
import { mainNav, pageHeading, signInVendor } from "./support/auth";
import { query } from "./support/db";
import { BASE_URL, SANDBOX } from "./support/env";

const { email } = SANDBOX.vendor;

/** Couples of this vendor's supplier that have a wedding date: exactly the feed's events. */
async function datedCouplesOfVendor(vendorEmail: string): Promise<string[]> {
  const rows = await query<{ id: string }>(
    `select sc.couple_id as id
       from users u
       join supplier_couples sc on sc.supplier_id = u.supplier_id
       join core_fields cf on cf.couple_id = sc.couple_id
      where u.email = $1 and coalesce(cf.fields->>'weddingDate', '') <> ''
      order by sc.couple_id`,
    [vendorEmail],
  );
  return rows.map((r) => r.id);
}

test.describe("vendor calendar feed", () => {
  test("vendor creates a feed URL, a calendar app reads it, the vendor revokes it", async ({ page, request }, testInfo) => {
    let url = "";
    let hint = "";

    await test.step("the Calendar feed page is in the vendor navigation", async () => {
      await signInVendor(page, email);
      await mainNav(page).getByRole("link", { name: "Calendar feed" }).click();
      await expect(page).toHaveURL(/\/vendor\/calendar-feed$/);
      await expect(pageHeading(page)).toHaveText("Calendar feed");
      await expect(mainNav(page).getByRole("link", { name: "Calendar feed" })).toHaveAttribute("aria-current", "page");
      await expect(page.getByRole("heading", { level: 2, name: "Subscribe in your calendar app" })).toBeVisible();
    });

    await test.step("Create shows the full URL once, and only a hash is stored", async () => {
      await page.getByRole("button", { name: "Create a feed URL" }).click();
      const created = page.getByRole("status", { name: "New feed URL" });
      await expect(created).toBeVisible();
      await expect(created).toContainText("cannot show it again");
      url = await created.getByLabel("Feed URL").inputValue();
      expect(url.startsWith(`${BASE_URL}/calendar/feeds/whcal_`)).toBe(true);
      expect(url).toMatch(/\/calendar\/feeds\/whcal_[A-Za-z0-9_-]{43}\.ics$/);
      hint = url.slice(-8, -4);

      const row = page.getByRole("main").locator(`tr[data-feed="${hint}"]`);
      await expect(row).toContainText(`…${hint}`);
      await expect(row.locator(".badge")).toHaveText("Active");

      const stored = await query<{ row: string }>(
        `select row_to_json(f)::text as row
           from calendar_feeds f
           join users u on u.supplier_id = f.supplier_id
          where u.email = $1 and f.token_hint = $2`,
        [email, hint],
      );
      expect(stored).toHaveLength(1);
      const token = url.slice(url.lastIndexOf("/") + 1, -".ics".length);
      expect(stored[0]!.row).not.toContain(token);

      const file = testInfo.outputPath("calendar-feed-created.png");
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach("calendar-feed-created", { path: file, contentType: "image/png" });
    });

    await test.step("a calendar app fetches the feed: the vendor's dated weddings", async () => {
      const response = await request.get(url);
      expect(response.status()).toBe(200);
      expect(response.headers()["content-type"]).toBe("text/calendar; charset=utf-8");
      const etag = response.headers()["etag"];
      expect(etag).toBeTruthy();
      const cal = new ICAL.Component(ICAL.parse(await response.text()));
      expect(cal.getFirstPropertyValue("version")).toBe("2.0");
      const uids = cal
        .getAllSubcomponents("vevent")
        .map((v) => String(v.getFirstPropertyValue("uid")))
        .sort();
      expect(uids).toEqual((await datedCouplesOfVendor(email)).map((id) => `${id}:ceremony@hub.wedsync`).sort());

      const again = await request.get(url, { headers: { "If-None-Match": etag! } });
      expect(again.status()).toBe(304);
    });

    await test.step("the list shows when the feed was last fetched", async () => {
      await page.reload();
      const row = page.getByRole("main").locator(`tr[data-feed="${hint}"]`);
      await expect(row).not.toContainText("not yet");
      // Shown once: a reload does not bring the URL back.
      await expect(page.getByRole("status", { name: "New feed URL" })).toHaveCount(0);
      await expect(page.getByText(url)).toHaveCount(0);
    });

    await test.step("revoking asks for confirmation, then the URL answers 404", async () => {
      const row = page.getByRole("main").locator(`tr[data-feed="${hint}"]`);
      await row.getByText("Revoke…").click();
      await row.getByRole("button", { name: `Revoke feed …${hint}` }).click();
      await expect(page.getByRole("status").filter({ hasText: "Feed revoked" })).toBeVisible();
      await expect(row.locator(".badge")).toContainText("Revoked");
      await expect(row.getByRole("button", { name: `Revoke feed …${hint}` })).toHaveCount(0);

      const gone = await request.get(url);
      expect(gone.status()).toBe(404);
      expect(await gone.text()).toMatch(/not found/i);
    });
  });
});
