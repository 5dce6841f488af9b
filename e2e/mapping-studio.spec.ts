// The mapping studio: build a mapping on the canvas (drag source fields to
// target fields), edit an edge's JSONata, watch the live preview, publish two
// versions, roll back and diff; a runaway expression stops at the time limit
// and the next preview works; ops may look but not change.
import { expect, test } from "@playwright/test";
import { pageHeading, signInStaff } from "./support/auth";
import { SANDBOX } from "./support/env";
import {
  activeVersion,
  connectFields,
  draftStatus,
  edge,
  expectCanvasReady,
  expressionText,
  previewOutput,
  sourceNode,
  targetNode,
  versionStatus,
} from "./support/mapping";

test.use({ viewport: { width: 1440, height: 1000 } });

const SLUG = "e2e-tave-contact";
const SAMPLE = {
  id: "01m2gjnv50t49nj96q5tjj45h3",
  firstName: "Ana",
  lastName: "López",
  email: "ana.lopez@example.com",
  eventDate: "2027-06-12",
  contacts: [{ kind: "person", name: "Sam Lee" }],
};

test.describe("mapping studio", () => {
  test("integration staff build a mapping on the canvas, preview it, publish twice, roll back and diff", async ({
    page,
  }, testInfo) => {
    await signInStaff(page, SANDBOX.integration);

    await test.step("the list shows the imported mappings with their versions", async () => {
      await page.goto("/console/mappings");
      await expect(pageHeading(page)).toHaveText("Mappings");
      const row = page.getByRole("row").filter({ hasText: "tave-client-to-wedsync-client" });
      await expect(row).toHaveCount(1);
      await expect(row.getByRole("cell").nth(3)).toHaveText("WedSync client record");
      await expect(row.getByRole("cell").nth(4)).toHaveText("v1");
      await expect(row.getByRole("cell").nth(6)).toContainText("published");
    });

    await test.step("create a new mapping", async () => {
      const form = page.getByRole("region", { name: "New mapping" });
      await form.getByLabel("Slug").fill(SLUG);
      await form.getByLabel("Name").fill("E2E Tave contact → WedSync client");
      await form.getByLabel("Source connector").fill("tave");
      await form.getByLabel("Source object").fill("contact");
      await form.getByLabel("Target").selectOption("wedsync-client");
      await form.getByRole("button", { name: "Create mapping" }).click();
      await expect(page).toHaveURL(new RegExp(`/console/mappings/${SLUG}$`));
      await expect(pageHeading(page)).toHaveText("E2E Tave contact → WedSync client");
      await expect(activeVersion(page)).toHaveText("none");
      await expectCanvasReady(page);
    });

    await test.step("required targets stand out until mapped; a sample input brings the source fields", async () => {
      for (const path of ["externalId", "source", "partner1Name"])
        await expect(targetNode(page, path).locator(".mf-needed")).toBeVisible();
      await expect(targetNode(page, "partner1Email").locator(".mf-needed")).toHaveCount(0);
      await expect(page.locator(".mf-needed-summary")).toHaveText("Required and not mapped: externalId, source, partner1Name");

      await page.getByLabel("New sample input (JSON)").fill(JSON.stringify(SAMPLE, null, 2));
      await page.getByRole("button", { name: "Add sample input" }).click();
      await expect(sourceNode(page, "firstName")).toBeVisible();
      await expect(sourceNode(page, "contacts.name")).toContainText("each");
      // The empty mapping's output is not a valid client yet: the preview says which fields.
      await expect(page.getByRole("alert", { name: "Validation errors" })).toContainText("externalId");
    });

    await test.step("dragging source fields onto target fields draws edges and writes the text", async () => {
      await connectFields(page, "id", "externalId");
      await expect(edge(page, "id", "externalId")).toHaveCount(1);
      await expect(expressionText(page)).toHaveValue(/"externalId": id\n/);

      await connectFields(page, "firstName", "partner1Name");
      await expect(edge(page, "firstName", "partner1Name")).toHaveCount(1);
      await expect(expressionText(page)).toHaveValue(/"partner1Name": firstName\n/);
      await expect(targetNode(page, "partner1Name").locator(".mf-needed")).toHaveCount(0);
      await expect(previewOutput(page)).toContainText('"partner1Name": "Ana"');
    });

    await test.step("selecting an edge edits its JSONata, and the preview follows", async () => {
      await page.getByRole("heading", { name: "Fields" }).click(); // nothing selected
      await edge(page, "firstName", "partner1Name").click();
      const edgeExpression = page.getByLabel("JSONata for partner1Name");
      await expect(edgeExpression).toHaveValue("firstName");
      await edgeExpression.fill("$joinName(firstName, lastName)");
      await expect(expressionText(page)).toHaveValue(/"partner1Name": \$joinName\(firstName, lastName\)/);
      await expect(edge(page, "lastName", "partner1Name")).toHaveCount(1);
      await expect(previewOutput(page)).toContainText('"partner1Name": "Ana López"');

      // A target with no source: click it and give it a constant (drawn from the expression node).
      await targetNode(page, "source").click();
      await page.getByLabel("JSONata for source").fill('"tave"');
      await expect(edge(page, null, "source")).toHaveCount(1);
      await expect(page.locator(".mf-needed-summary")).toHaveCount(0);
      await expect(page.getByText("Valid for WedSync client record.")).toBeVisible();
      await expect(previewOutput(page)).toContainText('"source": "tave"');
    });

    await test.step("screenshot of the editor", async () => {
      const file = testInfo.outputPath("mapping-editor.png");
      const png = await page.screenshot({ path: file, fullPage: true });
      expect(png.byteLength).toBeGreaterThan(1000);
      await testInfo.attach("mapping-editor", { path: file, contentType: "image/png" });
    });

    await test.step("the test case runs in the UI; its run becomes the expected output", async () => {
      await page.getByRole("button", { name: "Run test cases" }).click();
      const results = page.getByRole("status", { name: "Test results" });
      await expect(results).toContainText("0 of 1 case passed.");
      await expect(results).toContainText("the output differs from expected");
      await expect(results).toContainText('externalId: expected nothing, got "01m2gjnv50t49nj96q5tjj45h3"');
      await page.getByRole("button", { name: "Use this run as expected" }).click();
      await page.getByRole("button", { name: "Run test cases" }).click();
      await expect(results).toContainText("1 of 1 case passed.");
    });

    await test.step("publish makes version 1, the active one", async () => {
      await page.getByRole("button", { name: "Publish" }).click();
      await expect(draftStatus(page)).toHaveText("Published version 1; it is now the active version.");
      await expect(activeVersion(page)).toHaveText("v1");
      await expect(versionStatus(page, 1)).toHaveText("published active");
      await expect(page.getByText("unsaved changes")).toHaveCount(0);
    });

    await test.step("another field, published as version 2", async () => {
      await connectFields(page, "email", "partner1Email");
      await expect(edge(page, "email", "partner1Email")).toHaveCount(1);
      await expect(page.getByText("unsaved changes")).toBeVisible();
      await expect(previewOutput(page)).toContainText('"partner1Email": "ana.lopez@example.com"');

      // A mapping made by mistake: select its edge and delete it (the pair leaves the text).
      await connectFields(page, "eventDate", "weddingDate");
      await expect(expressionText(page)).toHaveValue(/"weddingDate": eventDate\n/);
      await edge(page, "eventDate", "weddingDate").click();
      await expect(page.getByLabel("JSONata for weddingDate")).toHaveValue("eventDate");
      await page.keyboard.press("Delete");
      await expect(edge(page, "eventDate", "weddingDate")).toHaveCount(0);
      await expect(expressionText(page)).not.toHaveValue(/weddingDate/);
      await expect(edge(page, "email", "partner1Email")).toHaveCount(1);

      await page.getByRole("button", { name: "Save draft" }).click();
      await expect(draftStatus(page)).toHaveText("Saved draft version 2.");
      await page.getByRole("button", { name: "Publish" }).click();
      await expect(draftStatus(page)).toHaveText("Published version 2; it is now the active version.");
      await expect(activeVersion(page)).toHaveText("v2");
    });

    await test.step("roll back to version 1", async () => {
      await page.getByRole("button", { name: "Make version 1 active" }).click();
      await expect(page.getByText("Version 1 is now the active version.")).toBeVisible();
      await expect(activeVersion(page)).toHaveText("v1");
      await expect(versionStatus(page, 1)).toHaveText("published active");
      await expect(versionStatus(page, 2)).toHaveText("published");
      // The untouched editor follows the active version: version 1 has no partner1Email.
      await expect(expressionText(page)).not.toHaveValue(/partner1Email/);
      await expect(edge(page, "email", "partner1Email")).toHaveCount(0);
    });

    await test.step("the diff between versions 1 and 2", async () => {
      const versions = page.getByRole("region", { name: "Versions" });
      await versions.getByLabel("From", { exact: true }).selectOption("1");
      await versions.getByLabel("To", { exact: true }).selectOption("2");
      await versions.getByRole("button", { name: "Show diff" }).click();
      await expect(page).toHaveURL(/from=1&to=2/);
      const diff = page.getByLabel("Diff from version 1 to version 2");
      await expect(diff).toContainText(`--- ${SLUG} v1`);
      await expect(diff).toContainText(`+++ ${SLUG} v2`);
      await expect(diff).toContainText('+  "partner1Email": email');
    });

    await test.step("the list shows active version 1 of 2", async () => {
      await page.goto("/console/mappings");
      const row = page.getByRole("row").filter({ hasText: SLUG });
      await expect(row.getByRole("cell").nth(4)).toHaveText("v1");
      await expect(row.getByRole("cell").nth(5)).toHaveText("v2");
    });
  });

  test("a runaway expression stops at the time limit, the next preview works, and text-only stays text", async ({ page }) => {
    await signInStaff(page, SANDBOX.integration);
    await page.goto("/console/mappings/tave-client-to-wedsync-client");
    await expectCanvasReady(page);
    await expect(edge(page, "id", "externalId")).toHaveCount(1);
    await expect(previewOutput(page)).toContainText('"source": "tave"');

    await test.step("an endless expression is text-only and hits the preview's time limit", async () => {
      const endless = "/* never ends */\n($loop := function($n) { $loop($n + 1) }; $loop(0))\n";
      await expressionText(page).fill(endless);
      await expect(
        page.getByText("This expression can only be edited as text: it is not a single object constructor"),
      ).toBeVisible();
      await expect(page.getByRole("alert", { name: "Evaluation error" })).toContainText(
        "The mapping ran longer than its time limit and was stopped",
      );
      await expect(page.getByRole("alert", { name: "Evaluation error" })).toContainText("D1012");

      // The canvas cannot change a text-only expression: a drag does nothing, and the text stays as typed.
      await connectFields(page, "bookingDate", "weddingDate");
      await expect(expressionText(page)).toHaveValue(endless);
    });

    await test.step("a syntax error names its line and column", async () => {
      await expressionText(page).fill('{\n  "externalId": $string(id),\n  "source": "tave" +\n}');
      const error = page.getByRole("alert", { name: "Syntax error" });
      await expect(error).toContainText("Syntax error at line 4, column 1");
      // The text travels as typed (no CRLF from the browser): the position is the one in the text box.
      await expect(error).toContainText("(character 53)");
      await expect(page.getByText("This expression can only be edited as text: it does not compile")).toBeVisible();
    });

    await test.step("the next preview works, and the text is a graph again", async () => {
      await expressionText(page).fill(
        '{\n  "externalId": $string(id),\n  "source": "tave",\n  "partner1Name": "Preview " & title\n}\n',
      );
      await expect(previewOutput(page)).toContainText('"partner1Name": "Preview ');
      await expect(page.getByRole("alert", { name: "Evaluation error" })).toHaveCount(0);
      await expect(page.getByText("This expression can only be edited as text")).toHaveCount(0);
      await expect(edge(page, "id", "externalId")).toHaveCount(1);
      await expect(edge(page, "title", "partner1Name")).toHaveCount(1);
    });

    await test.step("leaving with unsaved changes asks first", async () => {
      await expect(page.getByText("unsaved changes")).toBeVisible();
      const nav = page.getByRole("navigation", { name: "Main" });
      page.once("dialog", (dialog) => void dialog.dismiss());
      await nav.getByRole("link", { name: "Mappings", exact: true }).click();
      await expect(page).toHaveURL(/\/console\/mappings\/tave-client-to-wedsync-client$/);
      await expect(expressionText(page)).toHaveValue(/"Preview " & title/);
      page.once("dialog", (dialog) => void dialog.accept());
      await nav.getByRole("link", { name: "Mappings", exact: true }).click();
      await expect(page).toHaveURL(/\/console\/mappings$/);
    });
  });

  test("ops may look and preview but not change a mapping", async ({ page }) => {
    await signInStaff(page, SANDBOX.ops);
    await page.goto("/console/mappings");
    await expect(page.getByRole("region", { name: "New mapping" })).toHaveCount(0);
    await expect(
      page.getByText("Creating and editing mappings needs the admin or integration role; you are signed in as ops."),
    ).toBeVisible();

    await page.goto("/console/mappings/tave-client-to-wedsync-client");
    await expectCanvasReady(page);
    await expect(
      page.getByText("Read only: changing mappings needs the admin or integration role; you are signed in as ops."),
    ).toBeVisible();
    await expect(page.getByRole("button", { name: "Publish" })).toHaveCount(0);
    await expect(expressionText(page)).not.toBeEditable();
    await expect(previewOutput(page)).toContainText('"source": "tave"');

    // Even a well-formed request with a valid CSRF token is refused.
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const res = await page.request.post("/console/mappings/tave-client-to-wedsync-client", {
      form: { _csrf: csrf, intent: "publish", expression: "{}", cases: "[]" },
    });
    expect(res.status()).toBe(403);
  });
});
