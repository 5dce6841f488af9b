// Ops switch a wedding into wedding-day mode by hand: it appears on the
// Wedding day page and the dashboard with its health, the switch is in the
// audit log, and switching back to automatic takes it off again.
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInStaff } from "./support/auth";
import { query } from "./support/db";

test("ops switch a wedding into wedding-day mode and back", async ({ page }, testInfo) => {
  // A couple whose wedding is far away, so only the switch can put it in the mode.
  const [couple] = await query<{ id: string; display_name: string }>(
    `select c.id, c.display_name from couples c join core_fields f on f.couple_id = c.id
     where c.wedding_day_override is null and (f.fields->>'weddingDate') > to_char(now() + interval '10 days', 'YYYY-MM-DD')
     order by c.display_name limit 1`,
  );
  expect(couple, "the sandbox has a couple with a wedding more than 10 days away").toBeTruthy();

  await signInStaff(page);
  await mainNav(page).getByRole("link", { name: "Wedding day", exact: true }).click();
  await expect(pageHeading(page)).toHaveText("Wedding day");
  await expect(page.locator(`[data-wedding-day="${couple!.id}"]`)).toHaveCount(0);

  const form = page.getByRole("form", { name: "Switch wedding-day mode" });
  await form.getByLabel("Couple id").fill("not-a-couple");
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("alert")).toContainText("Choose a couple");

  await form.getByLabel("Couple id").fill(couple!.id);
  await form.getByLabel("On", { exact: true }).check();
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("status")).toContainText(`${couple!.display_name}: wedding-day mode set to on`);
  const row = page.locator(`[data-wedding-day="${couple!.id}"]`);
  await expect(row).toContainText("switched on");
  await expect(row.locator("[data-health]")).toHaveText(/green|amber|red/);
  const file = testInfo.outputPath("wedding-day.png");
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach("wedding-day", { path: file, contentType: "image/png" });

  await mainNav(page).getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page.locator("[data-wedding-days]")).toContainText(couple!.display_name);

  await mainNav(page).getByRole("link", { name: "Audit log", exact: true }).click();
  await expect(page.getByRole("main")).toContainText("wedding_day.override");

  await mainNav(page).getByRole("link", { name: "Wedding day", exact: true }).click();
  await row.getByRole("button", { name: "Automatic" }).click();
  await expect(page.getByRole("status")).toContainText("it is off now");
  await expect(row).toHaveCount(0);
});
