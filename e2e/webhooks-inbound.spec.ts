// Staff replay a dead letter after fixing its mapping: an inbound endpoint is
// created in the console (secret shown once), a signed Standard Webhooks
// delivery fails on a broken mapping, the mapping gets a fixed published
// version, "Replay all dead letters" applies it, and the couple's guest count
// changes. Getting to "dead" through every retry takes hours on the default
// schedule, so after the first real failed attempt the spec marks the delivery
// dead in the database (what the last attempt would do).
import crypto from "node:crypto";
import { expect, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { signInStaff } from "./support/auth";
import { query } from "./support/db";
import { BASE_URL, SANDBOX } from "./support/env";

const slug = `e2e-webhook-guests-${crypto.randomBytes(3).toString("hex")}`;

async function pollRow<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("replay a dead letter after fixing its mapping", async ({ page }) => {
  // A core-fields mapping whose published version is broken (guestCount must be a number).
  const [mapping] = await query<{ id: string }>(
    `insert into mappings (slug, name, source, target) values ($1, $1, '{"connector":"webhook","object":"payload"}', '{"kind":"core-fields"}') returning id`,
    [slug],
  );
  const [broken] = await query<{ id: string }>(
    `insert into mapping_versions (mapping_id, version, status, expression, published_at) values ($1, 1, 'published', '{ "guestCount": "many" }', now()) returning id`,
    [mapping!.id],
  );
  await query(`update mappings set active_version_id = $1 where id = $2`, [broken!.id, mapping!.id]);
  const [couple] = await query<{ id: string; version: number }>(
    `select c.couple_id as id, c.version from core_fields c order by c.couple_id limit 1`,
  );

  await signInStaff(page, SANDBOX.integration);
  await page.goto("/console/webhooks/in/new");
  await page.getByLabel("Source name").fill("E2E studio system");
  await page.getByLabel("Applies as").selectOption("core-fields");
  await page.getByLabel("Mapping").selectOption({ label: `${slug} (${slug}, v1)` });
  await page.getByLabel("Couple id in the payload (JSONata)").fill("data.coupleId");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  const created = page.getByRole("status", { name: "Endpoint created" });
  await expect(created).toBeVisible();
  const url = await created.getByLabel("URL").inputValue();
  const secret = await created.getByLabel("Secret").inputValue();
  expect(url).toContain("/webhooks/in/");
  const endpointId = url.split("/").pop()!;

  const body = JSON.stringify({ type: "wedding.updated", data: { coupleId: couple!.id, guests: 131 } });
  const id = `msg_e2e_${crypto.randomBytes(4).toString("hex")}`;
  const res = await fetch(`${BASE_URL}/webhooks/in/${endpointId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, new Date(), body),
    },
    body,
  });
  expect(res.status).toBe(202);

  // The worker's first attempt fails on the broken mapping; make it the last one.
  const [delivery] = await pollRow(async () => {
    const rows = await query<{ id: string }>(`select id from webhook_deliveries where endpoint_id = $1 and status = 'failed'`, [
      endpointId,
    ]);
    return rows.length ? rows : undefined;
  }, "the first failed attempt");
  await query(`update webhook_deliveries set status = 'dead', next_attempt_at = null where id = $1`, [delivery!.id]);
  await query(`select graphile_worker.remove_job($1)`, [`webhook-in:${delivery!.id}`]);

  await page.goto(`/console/webhooks/in/${endpointId}`);
  await expect(page.locator(`[data-delivery="${delivery!.id}"]`)).toHaveAttribute("data-status", "dead");
  await expect(page.locator(`[data-delivery="${delivery!.id}"]`)).toContainText("guestCount");
  await expect(page.getByRole("link", { name: /edit the mapping/ })).toHaveAttribute("href", `/console/mappings/${slug}`);

  // Fix the mapping: a new published version becomes the active one.
  const [fixed] = await query<{ id: string }>(
    `insert into mapping_versions (mapping_id, version, status, expression, published_at) values ($1, 2, 'published', '{ "guestCount": data.guests }', now()) returning id`,
    [mapping!.id],
  );
  await query(`update mappings set active_version_id = $1 where id = $2`, [fixed!.id, mapping!.id]);

  await page.getByRole("button", { name: /Replay all dead letters/ }).click();
  await expect(page.getByRole("status")).toContainText("1 dead letter queued again");
  await pollRow(
    async () =>
      (
        await query<{ status: string }>(`select status from webhook_deliveries where id = $1 and status = 'processed'`, [
          delivery!.id,
        ])
      )[0],
    "the replayed delivery processed",
  );
  await page.goto(`/console/webhooks/in/${endpointId}`);
  await expect(page.locator(`[data-delivery="${delivery!.id}"]`)).toHaveAttribute("data-status", "processed");
  const [after] = await query<{ version: number; guests: number }>(
    `select version, (fields->>'guestCount')::int as guests from core_fields where couple_id = $1`,
    [couple!.id],
  );
  expect(after).toEqual({ version: couple!.version + 1, guests: 131 });
  await page.screenshot({ path: "test-results/e2e/webhooks-inbound-replay.png", fullPage: true });
});
