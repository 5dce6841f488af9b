// Email templates render server-side with their data in both parts (HTML and
// plain text), and every template's console preview renders from its sample.
import { describe, expect, it } from "vitest";
import { renderEmail, renderSummary } from "../../app/messaging/templates/render.server";
import { renderTemplatePreviews } from "../../app/messaging/templates/preview.server";
import { templateIds } from "../../app/messaging/templates/catalog";

describe("message templates", () => {
  it('core fields changed: HTML and text carry the data ("guest count 120 → 150")', async () => {
    const data = {
      supplierName: "Bloom & Wild Florals",
      coupleName: "Priya & Sam",
      changes: [{ label: "Guest count", old: 120, new: 150 }],
    };
    const email = await renderEmail("core_fields_changed", data);
    expect(email.subject).toBe("Priya & Sam: Guest count changed");
    expect(email.html).toMatch(/<html/i);
    expect(email.html).toContain("Bloom &amp; Wild Florals");
    expect(email.html).toMatch(/Guest count<\/strong>(<!-- -->)?: (<!-- -->)?120(<!-- -->)? → (<!-- -->)?150/);
    expect(email.text).toContain("Bloom & Wild Florals");
    expect(email.text).toContain("Guest count: 120 → 150");
    expect(email.text).not.toMatch(/<[a-z]/i);
    expect(renderSummary("core_fields_changed", data).body).toBe("Priya & Sam: guest count 120 → 150");
  });

  it("a calendar invite carries an .ics attachment", async () => {
    const [preview] = (await renderTemplatePreviews()).filter((p) => p.id === "calendar_invite");
    expect(preview?.attachments).toEqual(["invite.ics"]);
  });

  it("every template's preview renders from its sample data", async () => {
    const previews = await renderTemplatePreviews();
    expect(previews.map((p) => p.id)).toEqual(templateIds);
    for (const p of previews) {
      expect(p.subject.length).toBeGreaterThan(0);
      expect(p.html).toContain("WEDSYNC");
      expect(p.text.length).toBeGreaterThan(20);
    }
  });
});
