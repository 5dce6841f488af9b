// Messages in the console: staff open a message's timeline after a failover
// (Resend answered 500, SendGrid took it), preview a template, and send a test
// message that the sandbox's Resend simulator receives and the sandbox outbox
// shows rendered. The failed-over message is seeded as rows, exactly as the
// delivery engine writes them; the test message goes through the real engine.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { mainNav, pageHeading, signInStaff } from "./support/auth";
import { query } from "./support/db";

async function seedFailedOverMessage(): Promise<{ id: string; recipient: string }> {
  const id = randomUUID();
  const recipient = `failover-${id.slice(0, 8)}@example.com`;
  const [resendAttempt, sendgridAttempt] = [randomUUID(), randomUUID()];
  await query(
    `insert into messages (id, channel, recipient, template, data, idempotency_key, request_key, status, provider,
                           provider_message_id, attempt_count, sent_at, created_at)
     values ($1, 'email', $2, 'alert_raised', $3::jsonb, $4, $4, 'sent', 'sendgrid', 'sg-e2e-1', 2, now(), now() - interval '2 seconds')`,
    [id, recipient, JSON.stringify({ title: "E2E failover", severity: "info", detail: "seeded" }), `e2e:${id}`],
  );
  await query(
    `insert into message_attempts (id, message_id, attempt_no, provider, status, request_key, http_status, error, started_at, finished_at)
     values ($1, $3, 1, 'resend', 'failed', $4, 500, 'Internal server error', now() - interval '1500 ms', now() - interval '1400 ms'),
            ($2, $3, 2, 'sendgrid', 'accepted', $4, 202, null, now() - interval '1300 ms', now() - interval '1200 ms')`,
    [resendAttempt, sendgridAttempt, id, `e2e:${id}`],
  );
  await query(
    `insert into message_events (message_id, attempt_id, type, status, provider, detail, occurred_at) values
       ($1, null, 'status', 'queued', null, '{}'::jsonb, now() - interval '2 seconds'),
       ($1, $2, 'attempt.failed', null, 'resend', '{"error":"Internal server error","httpStatus":500}'::jsonb, now() - interval '1400 ms'),
       ($1, $2, 'failover', null, 'resend', '{"to":"sendgrid"}'::jsonb, now() - interval '1350 ms'),
       ($1, $3, 'status', 'sent', 'sendgrid', '{}'::jsonb, now() - interval '1200 ms')`,
    [id, resendAttempt, sendgridAttempt],
  );
  return { id, recipient };
}

test.describe("messages", () => {
  let seeded: { id: string; recipient: string };
  const testRecipient = `e2e-outbox-${randomUUID().slice(0, 8)}@example.com`;

  test.beforeAll(async () => {
    seeded = await seedFailedOverMessage();
  });
  test.afterAll(async () => {
    if (seeded) await query(`delete from messages where id = $1`, [seeded.id]);
    // Other specs expect an empty log; the audit entry of the send stays (append-only).
    await query(`delete from messages where recipient = $1`, [testRecipient]);
  });

  test("staff open a message's timeline after a failover", async ({ page }, testInfo) => {
    await signInStaff(page);
    await mainNav(page).getByRole("link", { name: "Messages", exact: true }).click();
    await expect(pageHeading(page)).toHaveText("Messages");
    const row = page.locator(`tr[data-message-id="${seeded.id}"]`);
    await expect(row).toContainText("sendgrid");
    await row.getByRole("link", { name: seeded.recipient }).click();

    await expect(page).toHaveURL(new RegExp(`/console/messages/${seeded.id}$`));
    await expect(pageHeading(page)).toHaveText(`alert_raised → ${seeded.recipient}`);
    await expect(page.locator("[data-message-status]")).toHaveAttribute("data-message-status", "sent");
    const attempts = page.getByRole("table", { name: "Attempts" });
    await expect(attempts.locator("tbody tr")).toHaveCount(2);
    await expect(attempts.locator('[data-attempt="1"]')).toContainText("resend");
    await expect(attempts.locator('[data-attempt="1"]')).toContainText("failed");
    await expect(attempts.locator('[data-attempt="1"]')).toContainText("HTTP 500");
    await expect(attempts.locator('[data-attempt="2"]')).toContainText("sendgrid");
    await expect(attempts.locator('[data-attempt="2"]')).toContainText("accepted");
    const timeline = page.getByRole("list", { name: "Timeline" });
    await expect(timeline.locator('[data-event-type="failover"]')).toBeVisible();

    const file = testInfo.outputPath("message-timeline-failover.png");
    await page.screenshot({ path: file, fullPage: true });
    await testInfo.attach("message-timeline-failover", { path: file, contentType: "image/png" });
  });

  test("staff preview a template", async ({ page }, testInfo) => {
    await signInStaff(page);
    await page.goto("/console/messages");
    await page.getByRole("navigation", { name: "Messages" }).getByRole("link", { name: "Templates" }).click();
    await expect(pageHeading(page)).toHaveText("Message templates");
    const section = page.getByRole("region", { name: "Core fields changed" });
    await expect(section.locator("[data-subject]")).toContainText("Ava & Noah");
    const frame = page.frameLocator('iframe[title="Core fields changed preview"]');
    await expect(frame.getByText("Guest count")).toBeVisible();
    await section.getByText("Plain text").click();
    await expect(section.locator("[data-text]")).toContainText("Guest count: 120 → 150");

    const file = testInfo.outputPath("message-template-preview.png");
    await page.screenshot({ path: file, fullPage: true });
    await testInfo.attach("message-template-preview", { path: file, contentType: "image/png" });
  });

  test("staff send a test message and see it rendered in the sandbox outbox", async ({ page }, testInfo) => {
    await signInStaff(page);
    await page.goto("/console/messages");
    const subnav = page.getByRole("navigation", { name: "Messages" });
    await subnav.getByRole("link", { name: "Send a test" }).click();
    await expect(pageHeading(page)).toHaveText("Send a test message");

    // A bad recipient is refused next to the field.
    const form = page.getByRole("form", { name: "Send a test message" });
    await form.getByLabel("Channel").selectOption("email");
    await form.getByLabel("Recipient").fill("not-an-address");
    await form.getByLabel("Template").selectOption({ label: "Wedding reminder" });
    await form.getByRole("button", { name: "Send test message" }).click();
    await expect(page.locator("#recipient-error")).toHaveText(/must be an email address/);
    await expect(form.getByLabel("Recipient")).toHaveAttribute("aria-invalid", "true");

    await form.getByLabel("Recipient").fill(testRecipient);
    await form.getByLabel("Template").selectOption({ label: "Wedding reminder" });
    await form.getByRole("button", { name: "Send test message" }).click();
    await expect(page).toHaveURL(/\/console\/messages\/[0-9a-f-]{36}$/);
    const messageId = page.url().split("/").pop()!;
    await expect(pageHeading(page)).toHaveText(`wedding_reminder → ${testRecipient}`);
    // The sandbox's worker delivers it through the Resend simulator (the first email provider).
    await expect(async () => {
      await page.reload();
      await expect(page.locator("[data-message-status]")).toHaveAttribute("data-message-status", "sent", { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.locator("[data-message-provider]")).toHaveText("resend");

    await subnav.getByRole("link", { name: "Sandbox outbox" }).click();
    await expect(pageHeading(page)).toHaveText("Sandbox outbox");
    await expect(page.locator('[data-source="resend"]')).toHaveAttribute("data-source-ok", "true");
    const entry = page.locator('[data-outbox-entry="email"]', {
      has: page.locator("[data-outbox-to]", { hasText: testRecipient }),
    });
    await expect(entry).toHaveCount(1);
    await expect(entry.locator("[data-outbox-subject]")).toHaveText("Ava & Noah's wedding is in 7 days");
    await expect(entry.getByRole("link", { name: "Open the message's timeline" })).toHaveAttribute(
      "href",
      `/console/messages/${messageId}`,
    );
    const frame = entry.frameLocator("iframe");
    await expect(frame.getByRole("heading", { name: "Ava & Noah's wedding is coming up" })).toBeVisible();
    await expect(frame.getByText("Hartwell House")).toBeVisible();
    await entry.getByText("Plain text").click();
    await expect(entry.locator("[data-outbox-text]")).toContainText("Saturday 12 June 2027");

    await entry.scrollIntoViewIfNeeded();
    const file = testInfo.outputPath("sandbox-outbox-test-message.png");
    await page.screenshot({ path: file, fullPage: true });
    await testInfo.attach("sandbox-outbox-test-message", { path: file, contentType: "image/png" });

    // Provider health: the sandbox's providers are configured, and Resend has just succeeded.
    await subnav.getByRole("link", { name: "Provider health" }).click();
    await expect(pageHeading(page)).toHaveText("Provider health");
    const resend = page.locator('tr[data-provider="resend"]');
    await expect(resend.locator("td[data-configured]")).toHaveAttribute("data-configured", "true");
    await expect(resend).toHaveAttribute("data-circuit", "closed");
    const healthFile = testInfo.outputPath("provider-health.png");
    await page.screenshot({ path: healthFile, fullPage: true });
    await testInfo.attach("provider-health", { path: healthFile, contentType: "image/png" });
  });
});
