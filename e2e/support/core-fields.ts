// Helpers for the core-field editor and live updates: picking couples to edit,
// reading what the database holds, and the page parts the specs look at.
import { expect, type Page } from "@playwright/test";
import { query, type CoupleRow } from "./db";

export interface CoreFieldsRow {
  version: number;
  fields: Record<string, unknown>;
}

/** The stored core fields of a couple. */
export async function coreFieldsOf(coupleId: string): Promise<CoreFieldsRow> {
  const [row] = await query<CoreFieldsRow>("select version, fields from core_fields where couple_id = $1", [coupleId]);
  if (!row) throw new Error(`no core fields for couple ${coupleId}`);
  return row;
}

/**
 * Couples connected to this vendor's supplier, latest wedding first: the end of
 * the list, so specs editing them stay clear of the couple the console spec opens
 * (the earliest wedding).
 */
export async function couplesOfVendorLatestFirst(email: string): Promise<CoupleRow[]> {
  return query<CoupleRow>(
    `select c.id, c.display_name
       from users u
       join supplier_couples sc on sc.supplier_id = u.supplier_id
       join couples c on c.id = sc.couple_id
       join core_fields cf on cf.couple_id = c.id
      where u.email = $1
      order by cf.fields->>'weddingDate' desc, c.id`,
    [email],
  );
}

/** The read-only value shown for a field (the `dl.fields` of the couple page), by its label there. */
export function shownValue(page: Page, label: string) {
  return page.locator("dl.fields dt", { hasText: new RegExp(`^${label}$`) }).locator("xpath=following-sibling::dd[1]");
}

/** The live-updates notice ("Updated by … just now: …"). */
export function liveNotice(page: Page) {
  return page.locator("p.live-notice[role=status]");
}

/** Waits until the page is hydrated and its realtime room is joined. */
export async function expectLive(page: Page): Promise<void> {
  await expect(page.locator(".live-indicator")).toHaveText("Live");
}

/** Marks the current document; `expectSameDocument` then proves the page was never reloaded. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { e2eDocumentMark?: string }).e2eDocumentMark = "not reloaded";
  });
}

export async function expectSameDocument(page: Page): Promise<void> {
  const mark = await page.evaluate(() => (window as unknown as { e2eDocumentMark?: string }).e2eDocumentMark);
  expect(mark, "the page was reloaded or navigated away").toBe("not reloaded");
}
