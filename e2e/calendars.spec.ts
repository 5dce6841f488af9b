// Calendar sync as staff see it: a vendor connects Google Calendar (sandbox
// OAuth simulator), staff press "Sync now" on the console's Calendar sync page,
// the hub's worker pushes the vendor's weddings to the Google Calendar
// simulator, and the page shows the events pushed and the last push.
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInStaff, signInVendor } from "./support/auth";
import { connectionRow, disconnectAll, googleAccountId, openGoogleConsent } from "./support/connections";
import { query } from "./support/db";
import { BASE_URL, SANDBOX } from "./support/env";

const { email, supplier } = SANDBOX.vendor;

/** The vendor's couples that have a wedding date: each should become one event in its calendar. */
async function datedCouplesOfVendor(): Promise<number> {
  const [row] = await query<{ n: number }>(
    `select count(*)::int n
       from users u
       join supplier_couples sc on sc.supplier_id = u.supplier_id
       join core_fields cf on cf.couple_id = sc.couple_id
      where u.email = $1 and coalesce(cf.fields->>'weddingDate', '') <> ''`,
    [email],
  );
  return row!.n;
}

test.describe("calendar sync", () => {
  test.afterEach(async ({ browser }) => {
    const context = await browser.newContext({ baseURL: BASE_URL });
    try {
      await disconnectAll(await context.newPage(), email);
    } finally {
      await context.close();
    }
  });

  test("staff sync a vendor's Google Calendar now and see the events pushed", async ({ page, browser }, testInfo) => {
    const expected = await datedCouplesOfVendor();
    expect(expected).toBeGreaterThan(0);

    await test.step("the vendor connects Google Calendar", async () => {
      await signInVendor(page, email);
      await page.goto("/vendor/connections");
      await openGoogleConsent(page, testInfo);
      await page.getByLabel("Account").selectOption(googleAccountId(email));
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((url) => url.origin === BASE_URL && url.pathname === "/vendor/connections");
      await expect(connectionRow(page, "google-calendar")).toContainText(`Connected as ${email}`);
      // The vendor's choice for disconnecting is offered (default: remove the hub's events).
      await expect(connectionRow(page, "google-calendar").getByLabel("When I disconnect")).toHaveValue("remove");
    });

    const staff = await browser.newContext({ baseURL: BASE_URL });
    const console = await staff.newPage();
    try {
      await test.step("staff find the connection on Calendar sync", async () => {
        await signInStaff(console);
        await mainNav(console).getByRole("link", { name: "Calendar sync" }).click();
        await expect(pageHeading(console)).toHaveText("Calendar sync");
        const row = console.getByRole("row").filter({ hasText: supplier });
        await expect(row).toContainText("Google Calendar");
      });

      await test.step("Sync now pushes every dated wedding once", async () => {
        await console.getByRole("button", { name: `Sync now: ${supplier}'s Google Calendar` }).click();
        await expect(console.getByRole("status")).toContainText("Sync queued");
        await expect
          .poll(
            async () => {
              await console.reload();
              return Number(
                await console.getByRole("row").filter({ hasText: supplier }).locator("[data-events-pushed]").innerText(),
              );
            },
            { timeout: 30_000, intervals: [500, 1000] },
          )
          .toBe(expected);
        await expect(console.getByRole("row").filter({ hasText: supplier })).toContainText(`${expected} inserted`);
        const file = testInfo.outputPath("calendar-sync.png");
        await console.screenshot({ path: file, fullPage: true });
        await testInfo.attach("calendar-sync", { path: file, contentType: "image/png" });
      });
    } finally {
      await staff.close();
    }
  });
});
