// CRM imports in the console: staff dry-run the sandbox Tave studio (mapped
// records, two with problems, nothing written), start the import, watch the
// live progress bar reach 100% over Socket.IO, and open the result.
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInStaff } from "./support/auth";
import { query } from "./support/db";
import { removeTaveConnection, SANDBOX_TAVE, seedTaveConnection } from "./support/imports";

test.describe("CRM imports", () => {
  let seeded: { supplierName: string; connectionId: string };

  test.beforeAll(async () => {
    seeded = await seedTaveConnection();
  });
  test.afterAll(async () => {
    if (seeded) await removeTaveConnection(seeded.connectionId);
  });

  test("staff dry-run a Tave import, start it, watch it finish and open the result", async ({ page }, testInfo) => {
    await signInStaff(page);
    await mainNav(page).getByRole("link", { name: "Imports", exact: true }).click();
    await expect(pageHeading(page)).toHaveText("Imports");
    const form = page.getByRole("form", { name: "Import clients" });
    await form.getByLabel("CRM connection").selectOption(seeded.connectionId);

    await test.step("the dry run shows the first 20 records as WedSync clients and writes nothing", async () => {
      await form.getByRole("button", { name: "Dry run" }).click();
      const dry = page.locator("[data-dry-run]");
      await expect(dry.getByRole("heading", { level: 2 })).toHaveText("Dry run: the first 20 records as WedSync clients");
      await expect(dry.locator("tbody tr")).toHaveCount(20);
      await expect(dry.getByRole("columnheader", { name: "Partner1 name" })).toBeVisible();
      await expect(dry).toContainText(`${SANDBOX_TAVE.clients} records at the source.`);
      // The sandbox account's malformed email is its 8th client (index 7).
      await expect(dry.locator("tbody tr").nth(7)).toContainText("partner1Email must be an email address");
      const runs = await query<{ n: number }>(`select count(*)::int as n from sync_runs where connection_id = $1`, [
        seeded.connectionId,
      ]);
      expect(runs[0]!.n).toBe(0);
    });

    await test.step("start → the run page's progress bar reaches 100% without a reload", async () => {
      await form.getByRole("button", { name: "Start import" }).click();
      await expect(page).toHaveURL(/\/console\/imports\/[0-9a-f-]{36}$/);
      await expect(pageHeading(page)).toHaveText(`${seeded.supplierName} · Tave import`);
      const bar = page.getByRole("progressbar", { name: "Import progress" });
      await expect(bar).toHaveAttribute("value", "100", { timeout: 30_000 });
      await expect(page.locator("[data-progress-text]")).toHaveText(
        `${SANDBOX_TAVE.clients} of ${SANDBOX_TAVE.clients} records (100%)`,
      );
      await expect(page.locator("[data-run-status]")).toContainText("Finished");
    });

    await test.step("the result: counts, mapping version, failures with reasons, CSV and re-run", async () => {
      await expect(page.locator('[data-count="new"]')).toHaveText(String(SANDBOX_TAVE.clients - SANDBOX_TAVE.failures));
      await expect(page.locator('[data-count="failed"]')).toHaveText(String(SANDBOX_TAVE.failures));
      await expect(page.locator("[data-mapping]")).toContainText("tave-client-to-wedsync-client v");
      const failures = page.getByRole("table", { name: "Failed records" }).locator("tbody tr");
      await expect(failures).toHaveCount(SANDBOX_TAVE.failures);
      await expect(failures.first()).toContainText("partner1Email must be an email address");
      await expect(page.getByRole("link", { name: "Download failures (CSV)" })).toBeVisible();
      await expect(page.getByRole("button", { name: /^Re-run 2 failed records$/ })).toBeVisible();

      const file = testInfo.outputPath("import-result.png");
      const png = await page.screenshot({ path: file, fullPage: true });
      expect(png.byteLength).toBeGreaterThan(1000);
      await testInfo.attach("import result", { path: file, contentType: "image/png" });
    });

    await test.step("the CSV downloads with the failed ids", async () => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "Download failures (CSV)" }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^import-[0-9a-f-]{36}-failures\.csv$/);
      const csv = fs.readFileSync(await download.path(), "utf8");
      expect(csv.split("\r\n")[0]).toBe("external_id,reason,fields");
      expect(csv.split("\r\n").filter(Boolean)).toHaveLength(1 + SANDBOX_TAVE.failures);
    });
  });
});
