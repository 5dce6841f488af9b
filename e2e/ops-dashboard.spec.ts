// Ops dashboard: an ops user watches the figures change live (no navigation, no
// reload) while a background load writes core fields through the public API the
// way the apps do: WedMe changes the couple's guest count, WedSync the reception
// time. A full-page screenshot of the dashboard under load is attached.
//
// The load fails loudly: a write that is refused (any status but 200) or changes
// nothing throws with the API's answer, and the next poll reports it. An earlier
// version counted only successes and so silently wrote nothing: it used one
// "wedsync" token for the guest count, but a WedSync token writes as a supplier
// and the guest count is the couple's (and staff's) to change, so every PATCH
// was a 403.
import { expect, test } from "@playwright/test";
import { createApiToken, revokeApiToken, type E2eApiToken } from "./support/api-tokens";
import { signInStaff } from "./support/auth";
import { coreFieldsOf, couplesOfVendorLatestFirst, expectSameDocument, markDocument } from "./support/core-fields";
import { query } from "./support/db";
import { BASE_URL, SANDBOX } from "./support/env";

const CORE_FIELD_SCOPES = ["core-fields:read", "core-fields:write"];

/**
 * The couple the load writes to: one no other spec reads. Every sandbox couple
 * belongs to a sandbox vendor's supplier, so this leaves out, by the same
 * queries, the couples other specs pick: the lowest id (inbound webhooks), the
 * earliest wedding (console), the first by name (wedding day), each vendor's
 * latest weddings (core fields); and weddings within ten days (wedding-day mode).
 */
async function loadCouple(): Promise<{ id: string; display_name: string }> {
  const picked = async (sql: string) => (await query<{ id: string }>(sql)).map((r) => r.id);
  const [lowestId, earliest, firstByName, vendorLatest, vendor2Latest] = await Promise.all([
    picked(`select couple_id as id from core_fields order by couple_id limit 1`),
    picked(`select couple_id as id from core_fields order by fields->>'weddingDate', couple_id limit 1`),
    picked(`select id from couples order by display_name limit 1`),
    couplesOfVendorLatestFirst(SANDBOX.vendor.email),
    couplesOfVendorLatestFirst(SANDBOX.vendor2.email),
  ]);
  const taken = new Set([
    ...lowestId,
    ...earliest,
    ...firstByName,
    ...vendorLatest.slice(0, 3).map((c) => c.id),
    ...vendor2Latest.slice(0, 3).map((c) => c.id),
  ]);
  const candidates = await query<{ id: string; display_name: string }>(
    `select c.id, c.display_name
       from couples c
       join core_fields f on f.couple_id = c.id
      where c.wedding_day_override is null
        and (f.fields->>'weddingDate') > to_char(now() + interval '10 days', 'YYYY-MM-DD')
      order by f.fields->>'weddingDate' desc, c.id`,
  );
  const couple = candidates.find((c) => !taken.has(c.id));
  if (!couple) throw new Error("no sandbox couple is free for the load; the seed changed");
  return couple;
}

interface LoadWriter {
  app: string;
  token: string;
  field: string;
  /** The i-th value to write; never the current one, so every write is a change. */
  value(i: number, current: unknown): unknown;
}

interface CoreFieldsAnswer {
  version: number;
  fields: Record<string, unknown>;
  changed?: boolean;
}

interface Load {
  /** Successful writes so far. */
  readonly writes: number;
  /** Throws the load's failure, if it has failed. */
  check(): void;
  /** Stops the loop and returns the number of writes; throws if the load failed. */
  stop(): Promise<number>;
}

async function callApi(app: string, token: string, method: string, path: string, body?: unknown): Promise<CoreFieldsAnswer> {
  const res = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`${app}: ${method} /api/v1${path} ${JSON.stringify(body)} was refused: ${res.status} ${text}`);
  return JSON.parse(text) as CoreFieldsAnswer;
}

/** Core-field writes in turn by each writer, one at a time, each at the version the previous one returned. */
function startLoad(coupleId: string, writers: LoadWriter[]): Load {
  const path = `/couples/${coupleId}/core-fields`;
  let running = true;
  let writes = 0;
  let failure: unknown = null;
  const loop = (async () => {
    let state = await callApi(writers[0]!.app, writers[0]!.token, "GET", path);
    for (let i = 0; running; i++) {
      const w = writers[i % writers.length]!;
      const value = w.value(i, state.fields[w.field]);
      const next = await callApi(w.app, w.token, "PATCH", path, { version: state.version, fields: { [w.field]: value } });
      if (next.changed !== true || next.version !== state.version + 1) {
        throw new Error(`${w.app} set ${w.field} to ${JSON.stringify(value)} and nothing changed: ${JSON.stringify(next)}`);
      }
      state = next;
      writes++;
      // Pacing only (a few writes a second), not a wait for anything.
      await new Promise((r) => setTimeout(r, 100));
    }
  })().catch((err: unknown) => {
    failure = err;
  });
  const check = () => {
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  };
  return {
    get writes() {
      return writes;
    },
    check,
    async stop() {
      running = false;
      await loop;
      check();
      return writes;
    },
  };
}

/** The figure of a tile as a number ("12 /min" → 12, "no data" → null). */
function figure(text: string | null | undefined): number | null {
  const n = Number.parseFloat(text ?? "");
  return Number.isFinite(n) ? n : null;
}

test("an ops user watches dashboard figures change while a background load runs", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const couple = await loadCouple();
  const before = await coreFieldsOf(couple.id);
  const tokens: E2eApiToken[] = [];
  try {
    // Each token is kept for revoking as soon as it exists, even if the other one fails.
    const made = (t: E2eApiToken) => (tokens.push(t), t);
    const [wedme, wedsync] = await Promise.all([
      createApiToken("e2e ops load (WedMe)", "wedme", CORE_FIELD_SCOPES).then(made),
      createApiToken("e2e ops load (WedSync)", "wedsync", CORE_FIELD_SCOPES).then(made),
    ]);

    const liveStatus = page.locator("p.ops-live[role=status]");
    const tile = (id: string) => page.locator(`.kpi-tile[data-kpi="${id}"]`);
    const value = (id: string) => page.locator(`[data-kpi-value="${id}"]`);

    await test.step("the ops user opens the dashboard and it is live", async () => {
      await signInStaff(page, SANDBOX.ops);
      await expect(liveStatus).toHaveAttribute("data-state", "live", { timeout: 15_000 });
      // The KPI ticker sends a tick every second to the `ops` room; the first arrives without a reload.
      await expect(liveStatus).toHaveAttribute("data-last-tick", /^\d{4}-/, { timeout: 15_000 });
      await expect(liveStatus).toHaveText(/^Live: updated /);
      // Every KPI has a tile with its target and a state (grey "no data" where nothing ran yet).
      await expect(tile("webhook_processing_ms")).toContainText("target < 100 ms");
      await expect(tile("core_field_sync_latency_ms")).toContainText("target < 50 ms");
      await expect(tile("core_field_sync_latency_ms")).toHaveAttribute("data-state", /^(green|amber|red|unknown)$/);
      await expect(page.locator(".ops-chart canvas").first()).toBeVisible();
      await markDocument(page);
    });

    const navigations: string[] = [];
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    const changesBefore = figure(await value("core_field_changes_per_min").textContent()) ?? 0;
    const latencyBefore = (await value("core_field_sync_latency_ms").textContent())?.trim() ?? "";
    testInfo.annotations.push({
      type: "before the load",
      description: `core-field changes ${changesBefore} /min; sync latency ${latencyBefore}`,
    });

    const load = startLoad(couple.id, [
      {
        app: "WedMe",
        token: wedme.token,
        field: "guestCount",
        value: (i, current) => (100 + i === current ? 99 : 100 + i),
      },
      {
        app: "WedSync",
        token: wedsync.token,
        field: "receptionTime",
        value: (i, current) => {
          const t = `19:${String(i % 60).padStart(2, "0")}`;
          return t === current ? "20:00" : t;
        },
      },
    ]);
    let stepsPassed = false;
    try {
      await test.step("core-field changes per minute climb tick by tick", async () => {
        // Tick and figure read in one go, so each sample is one rendered tick.
        const samples: { tick: string; changes: number }[] = [];
        const rises = () => samples.filter((s, i) => i > 0 && s.changes > samples[i - 1]!.changes).length;
        await expect
          .poll(
            async () => {
              load.check();
              const now = await page.evaluate(() => ({
                tick: document.querySelector("p.ops-live")?.getAttribute("data-last-tick") ?? "",
                changes: document.querySelector('[data-kpi-value="core_field_changes_per_min"]')?.textContent ?? "",
              }));
              const changes = figure(now.changes);
              if (now.tick && changes !== null && now.tick !== samples.at(-1)?.tick) samples.push({ tick: now.tick, changes });
              const top = Math.max(changesBefore, ...samples.map((s) => s.changes));
              // Risen on at least three ticks, and well above where it was before the load.
              return rises() >= 3 && top >= changesBefore + 10;
            },
            { timeout: 60_000, message: "core-field changes per minute did not climb over several ticks" },
          )
          .toBe(true);
        testInfo.annotations.push({
          type: "changes per minute, tick by tick",
          description: samples.map((s) => s.changes).join(" → "),
        });
        expect(load.writes).toBeGreaterThan(10);
      });

      await test.step("core-field sync latency shows a measured value", async () => {
        // The API writes' p95 (or realtime delivery's) reaches the tile once the web process's metrics snapshot has them.
        await expect
          .poll(
            async () => {
              load.check();
              return (await value("core_field_sync_latency_ms").textContent())?.trim();
            },
            { timeout: 45_000, message: "core-field sync latency never left 'no data'" },
          )
          .toMatch(/^\d+(\.\d+)? ms$/);
        await expect(tile("core_field_sync_latency_ms")).toHaveAttribute("data-state", /^(green|amber|red)$/);
        await expect(tile("core_field_sync_latency_ms").locator(".kpi-state")).not.toHaveText("no data");
        testInfo.annotations.push({
          type: "sync latency under load",
          description: `${latencyBefore} → ${(await value("core_field_sync_latency_ms").textContent())?.trim()}`,
        });
      });

      await test.step("full-page screenshot of the dashboard under load", async () => {
        await expect(liveStatus).toHaveText(/^Live: updated /);
        const file = testInfo.outputPath("ops-dashboard.png");
        const png = await page.screenshot({ path: file, fullPage: true });
        expect(png.byteLength).toBeGreaterThan(1000);
        await testInfo.attach("ops-dashboard", { path: file, contentType: "image/png" });
      });
      stepsPassed = true;
    } finally {
      if (stepsPassed)
        await load.stop(); // throws a write refused after the last poll
      else {
        // A step failed first: report that failure, and keep the load's (if any) beside it.
        await load.stop().catch((err: unknown) => {
          testInfo.annotations.push({ type: "load failure", description: String(err) });
        });
      }
    }

    await test.step("every write landed, and the page was never reloaded", async () => {
      const after = await coreFieldsOf(couple.id);
      expect(after.version - before.version).toBe(load.writes);
      expect(navigations).toEqual([]);
      await expectSameDocument(page);
      testInfo.annotations.push({ type: "load", description: `${load.writes} core-field writes to ${couple.display_name}` });
    });
  } finally {
    await Promise.all(tokens.map((t) => revokeApiToken(t.id)));
  }
});
