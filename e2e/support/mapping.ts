// Helpers for the mapping studio: the React Flow canvas (its nodes, handles and
// edges, by the test ids React Flow renders) and the editor's panels.
import { expect, type Locator, type Page } from "@playwright/test";

/** The canvas (React Flow's wrapper), once the client-only chunk has loaded. */
export function canvas(page: Page): Locator {
  return page.locator(".mf-canvas .react-flow");
}

export function sourceNode(page: Page, path: string): Locator {
  return page.getByTestId(`rf__node-s:${path}`);
}

export function targetNode(page: Page, path: string): Locator {
  return page.getByTestId(`rf__node-t:${path}`);
}

/**
 * The drawn edge from a source field (or null: the constant/expression node) to a target field.
 * Check it with toHaveCount: a perfectly horizontal edge has a zero-height box, which Playwright calls hidden.
 */
export function edge(page: Page, source: string | null, target: string): Locator {
  return page.getByTestId(`rf__edge-e:${source ?? "expression"}->${target}`);
}

async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("the element has no box (not visible?)");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags from a source field's handle to a target field's handle, as a person would with the mouse. */
export async function connectFields(page: Page, source: string, target: string): Promise<void> {
  const from = sourceNode(page, source).locator(".react-flow__handle");
  const to = targetNode(page, target).locator(".react-flow__handle");
  await expect(from).toBeVisible();
  await expect(to).toBeVisible();
  // Both ends must be on screen at once: bring the canvas's top into view, then measure.
  await page.locator(".mf-columns-head").scrollIntoViewIfNeeded();
  await expect(to).toBeInViewport();
  const a = await centre(from);
  const b = await centre(to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
}

export function expressionText(page: Page): Locator {
  return page.getByLabel("Expression (JSONata)", { exact: true });
}

export function previewOutput(page: Page): Locator {
  return page.getByLabel("Preview output");
}

export function draftStatus(page: Page): Locator {
  return page.locator(".mapping-studio > .alert[role=status], .mapping-studio > .alert[role=alert]");
}

export function activeVersion(page: Page): Locator {
  return page.getByTestId("active-version");
}

/** Waits until the page is hydrated and the canvas is drawn. */
export async function expectCanvasReady(page: Page): Promise<void> {
  await expect(canvas(page)).toBeVisible();
  await expect(page.locator(".mf-canvas .react-flow__node").first()).toBeVisible();
}

/** The status cell of a version in the versions table ("published", "published active", "draft"). */
export function versionStatus(page: Page, version: number): Locator {
  return page
    .getByRole("row", { name: `Version ${version}`, exact: true })
    .getByRole("cell")
    .nth(1);
}
