// decideDelivery: channels, muted kinds, quiet hours in the recipient's zone
// (same-day and midnight-spanning windows, DST gaps and overlaps), and the
// critical override. Pure: no database.
import { describe, expect, it } from "vitest";
import { decideDelivery, preferencesInputSchema, zonedToInstant, type Preferences } from "../../app/messaging/preferences.server";

const base: Preferences = {
  channels: ["email", "sms", "push"],
  mutedKinds: [],
  quietStart: null,
  quietEnd: null,
  timeZone: "UTC",
};
const msg = { channel: "sms" as const, kind: "wedding-reminder", critical: false };
const at = (iso: string) => new Date(iso);

describe("channels and kinds", () => {
  it("sends when there are no preferences", () => {
    expect(decideDelivery(null, msg, at("2026-06-01T03:00:00Z"))).toEqual({ action: "send" });
  });
  it("skips a channel the recipient turned off, even when critical", () => {
    const prefs = { ...base, channels: ["email" as const] };
    expect(decideDelivery(prefs, msg, at("2026-06-01T12:00:00Z")).action).toBe("skip");
    expect(decideDelivery(prefs, { ...msg, critical: true }, at("2026-06-01T12:00:00Z")).action).toBe("skip");
    expect(decideDelivery(prefs, { ...msg, channel: "email" }, at("2026-06-01T12:00:00Z")).action).toBe("send");
  });
  it("skips a muted kind (unless critical) and sends the others", () => {
    expect(
      decideDelivery({ ...base, mutedKinds: ["wedding-reminder"] }, { ...msg, critical: true }, at("2026-06-01T12:00:00Z"))
        .action,
    ).toBe("send");
    const prefs = { ...base, mutedKinds: ["wedding-reminder"] };
    const d = decideDelivery(prefs, msg, at("2026-06-01T12:00:00Z"));
    expect(d).toEqual({ action: "skip", reason: 'The recipient muted "wedding-reminder" messages.' });
    expect(decideDelivery(prefs, { ...msg, kind: "alert-raised" }, at("2026-06-01T12:00:00Z")).action).toBe("send");
  });
});

describe("quiet hours", () => {
  const night = { ...base, quietStart: "22:00", quietEnd: "07:00", timeZone: "Europe/London" };

  it("defers inside a midnight-spanning window until its end, in the recipient's zone (BST = UTC+1)", () => {
    // 23:30 London on 1 June = 22:30Z; quiet until 07:00 London on 2 June = 06:00Z.
    expect(decideDelivery(night, msg, at("2026-06-01T22:30:00Z"))).toMatchObject({
      action: "defer",
      until: at("2026-06-02T06:00:00Z"),
    });
    // 03:00 London (after midnight) -> 07:00 the same local day.
    expect(decideDelivery(night, msg, at("2026-06-02T02:00:00Z"))).toMatchObject({
      action: "defer",
      until: at("2026-06-02T06:00:00Z"),
    });
  });
  it("sends outside the window; the start is inclusive and the end exclusive", () => {
    expect(decideDelivery(night, msg, at("2026-06-01T20:59:00Z")).action).toBe("send"); // 21:59 local
    expect(decideDelivery(night, msg, at("2026-06-01T21:00:00Z")).action).toBe("defer"); // 22:00 local
    expect(decideDelivery(night, msg, at("2026-06-02T06:00:00Z")).action).toBe("send"); // 07:00 local
  });
  it("handles a same-day window", () => {
    const lunch = { ...base, quietStart: "12:00", quietEnd: "13:30", timeZone: "America/New_York" };
    // 12:15 New York (EDT, UTC-4) = 16:15Z -> until 13:30 local = 17:30Z.
    expect(decideDelivery(lunch, msg, at("2026-07-10T16:15:00Z"))).toMatchObject({
      action: "defer",
      until: at("2026-07-10T17:30:00Z"),
    });
    expect(decideDelivery(lunch, msg, at("2026-07-10T18:00:00Z")).action).toBe("send");
  });
  it("critical wedding-day messages override quiet hours", () => {
    expect(decideDelivery(night, { ...msg, critical: true }, at("2026-06-01T23:00:00Z"))).toEqual({ action: "send" });
  });
  it("uses the offset in force at the window's end across the spring-forward night", () => {
    // London, 29 March 2026: clocks go 01:00 GMT -> 02:00 BST. At 23:00 GMT on the 28th, quiet until 07:00 BST = 06:00Z.
    expect(decideDelivery(night, msg, at("2026-03-28T23:00:00Z"))).toMatchObject({ until: at("2026-03-29T06:00:00Z") });
  });
  it("and across the fall-back night", () => {
    // 25 October 2026: 02:00 BST -> 01:00 GMT. At 22:30 BST (21:30Z) on the 24th, quiet until 07:00 GMT = 07:00Z.
    expect(decideDelivery(night, msg, at("2026-10-24T21:30:00Z"))).toMatchObject({ until: at("2026-10-25T07:00:00Z") });
  });
  it("a window ending inside a DST gap ends when the clocks jump", () => {
    const gap = { ...base, quietStart: "23:00", quietEnd: "01:30", timeZone: "Europe/London" };
    // 01:30 never happens on 29 March 2026 in London; the clocks jump at 01:00Z.
    expect(decideDelivery(gap, msg, at("2026-03-28T23:30:00Z"))).toMatchObject({ until: at("2026-03-29T01:00:00Z") });
  });
  it("zonedToInstant picks the first of two instants in a fall-back overlap", () => {
    // 01:30 happens twice in London on 25 Oct 2026: 00:30Z (BST) and 01:30Z (GMT).
    expect(zonedToInstant({ y: 2026, m: 10, d: 25, h: 1, min: 30 }, "Europe/London")).toEqual(at("2026-10-25T00:30:00Z"));
  });
  it("works in zones east of UTC across the date line", () => {
    const auckland = { ...base, quietStart: "21:00", quietEnd: "08:00", timeZone: "Pacific/Auckland" };
    // 2026-01-15T09:00Z = 22:00 NZDT (UTC+13) on 15 Jan -> until 08:00 on 16 Jan = 2026-01-15T19:00Z.
    expect(decideDelivery(auckland, msg, at("2026-01-15T09:00:00Z"))).toMatchObject({ until: at("2026-01-15T19:00:00Z") });
  });
});

describe("the input schema", () => {
  const ok = { channels: ["email"], mutedKinds: [], quietStart: "22:00", quietEnd: "07:00", timeZone: "Europe/London" };
  it("accepts a valid form", () => {
    expect(preferencesInputSchema.safeParse(ok).success).toBe(true);
  });
  it.each([
    [{ quietStart: "25:00" }, "Quiet hours start must be a time like 22:00"],
    [{ quietEnd: null }, "Give both a start and an end for quiet hours, or neither"],
    [{ quietEnd: "22:00" }, "Quiet hours cannot start and end at the same time"],
    [{ timeZone: "Mars/Olympus" }, "Time zone must be an IANA zone such as Europe/London"],
  ])("refuses %j with a clear message", (patch, message) => {
    const r = preferencesInputSchema.safeParse({ ...ok, ...patch });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toContain(message);
  });
});
