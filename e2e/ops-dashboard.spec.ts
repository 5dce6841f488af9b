// Ops dashboard: an ops user watches the figures change live (no reload)
// while a background load writes core fields through the API, and a
// screenshot of the dashboard is kept in test-results/e2e/.
import crypto from "node:crypto";
import { expect, test } from "@playwright/test";
import { signInStaff } from "./support/auth";
import { query } from "./support/db";
import { BASE_URL, SANDBOX } from "./support/env";

/** An API token made straight in the database (only its SHA-256 is stored, as the hub does). */
async function apiToken(): Promise<string> {
  const prefix = crypto.randomBytes(4).toString("hex");
  const token = `whub_${prefix}_${crypto.randomBytes(24).toString("base64url")}`;
  await query(`insert into api_tokens (name, kind, prefix, token_hash, scopes) values ($1, 'wedsync', $2, $3, $4)`, [
    `e2e ops load ${prefix}`,
    prefix,
    crypto.createHash("sha256").update(token).digest("hex"),
    ["core-fields:read", "core-fields:write"],
  ]);
  return token;
}

/** Core-field writes in a loop until stopped: read the version, change the guest count. */
function startLoad(token: string, coupleId: string): { stop(): Promise<number> } {
  let running = true;
  let writes = 0;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const loop = (async () => {
    while (running) {
      const read = await fetch(`${BASE_URL}/api/v1/couples/${coupleId}/core-fields`, { headers });
      const { version } = (await read.json()) as { version: number };
      const res = await fetch(`${BASE_URL}/api/v1/couples/${coupleId}/core-fields`, {
        method: "PATCH",
        headers,
        body: JSON.stringify({ version, fields: { guestCount: 80 + (writes % 90) } }),
      });
      if (res.ok) writes++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return writes;
    },
  };
}

test("an ops user watches dashboard figures change while a background load runs", async ({ page }) => {
  await signInStaff(page, SANDBOX.ops);
  const live = page.getByRole("status").filter({ hasText: /^Live/ });
  await expect(live).toBeVisible();
  // The KPI ticker runs in the sandbox hub: a tick arrives within a few seconds, without a reload.
  await expect(page.locator("[data-last-tick]:not([data-last-tick=''])")).toBeVisible({ timeout: 15_000 });

  // Every brief KPI has a tile with its target and a state colour (grey "no data" where nothing ran yet).
  const tile = (id: string) => page.locator(`.kpi-tile[data-kpi="${id}"]`);
  await expect(tile("webhook_processing_ms")).toContainText("target < 100 ms");
  await expect(tile("core_field_sync_latency_ms")).toHaveAttribute("data-state", /green|amber|red|unknown/);
  await expect(page.locator(".ops-chart canvas").first()).toBeVisible();

  const [couple] = await query<{ id: string }>(`select couple_id as id from core_fields order by couple_id limit 1`);
  const changes = page.locator('[data-kpi-value="core_field_changes_per_min"]');
  const before = Number.parseFloat((await changes.textContent()) ?? "0") || 0;
  const navigations: string[] = [];
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) navigations.push(f.url());
  });

  const load = startLoad(await apiToken(), couple!.id);
  try {
    // The changes-per-minute figure climbs as the writes land, tick by tick.
    await expect
      .poll(async () => Number.parseFloat((await changes.textContent()) ?? "0") || 0, { timeout: 30_000 })
      .toBeGreaterThan(before + 5);
    // The API-write latency feeds core-field sync latency once the web process's snapshot has it.
    await expect(page.locator('[data-kpi-value="core_field_sync_latency_ms"]')).not.toHaveText("no data", { timeout: 20_000 });
    await page.screenshot({ path: "test-results/e2e/ops-dashboard.png", fullPage: true });
  } finally {
    expect(await load.stop()).toBeGreaterThan(0);
  }
  // All of it live: the page never navigated or reloaded.
  expect(navigations).toEqual([]);
});
