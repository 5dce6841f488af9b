// LightBlue clients into WedSync by reading its web portal (no API): a
// connection made through the real "test, then save" path (which signs in), the
// import job run to the end against the portal simulator. Exact counts, a re-run
// all unchanged, one malformed row failing alone, politeness (one request a
// second, measured at the portal), a wrong password failing the run clearly, a
// session that expires mid-run signed in again, and the portal's own contract.
import * as cheerio from "cheerio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { connections } from "../../db/schema";
import { connectWithCredentials, testCredentials } from "../../app/connectors/credentials.server";
import { makeSupplier, startTestHub, testActor, unique } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import {
  createLightBluePortalSimulator,
  type LightBlueAccountInput,
  type LightBluePortalSimulatorDefinition,
} from "../../simulators/lightblue-portal/index";
import { coupleCount, importToEnd } from "./crm-helpers";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: LightBluePortalSimulatorDefinition;
let sim: RunningSimulator;

/** The connector's politeness limit (default: the manifest's one request a second). */
async function setRate(limit: { requests: number; perSeconds: number } | null) {
  await hub.ctx.db.execute(
    limit
      ? sql`insert into connectors (id, settings) values ('lightblue', ${JSON.stringify({ rateLimit: limit })}::jsonb)
            on conflict (id) do update set settings = connectors.settings || excluded.settings`
      : sql`update connectors set settings = settings - 'rateLimit' where id = 'lightblue'`,
  );
}

beforeAll(async () => {
  def = createLightBluePortalSimulator({ pageSize: 10 });
  sim = await startSimulator(def);
  hub = await startTestHub({ config: { providerApiRoots: { lightblue: sim.url } } });
});
afterAll(async () => {
  await setRate(null);
  await hub?.stop();
  await sim?.close();
});

async function connect(account: Omit<LightBlueAccountInput, "username" | "password">) {
  const username = unique("studio");
  const password = unique("pw");
  def.control.addAccount({ username, password, ...account });
  const supplier = await makeSupplier(hub.ctx.db);
  const saved = await connectWithCredentials(hub.ctx, {
    supplierId: supplier.id,
    connectorId: "lightblue",
    values: { username, password },
    actor: testActor,
  });
  if (!saved.ok) throw new Error(saved.message);
  return { username, password, supplierId: supplier.id, connectionId: saved.connectionId };
}

describe("LightBlue import", () => {
  it("imports every row one polite request a second; a malformed row fails alone; a re-run is all unchanged", async () => {
    await setRate(null);
    const { username, supplierId, connectionId } = await connect({ count: 24, seed: 41, malformedEmail: [3] });
    const from = Date.now();
    const first = await importToEnd(hub.ctx, connectionId);
    expect(first.status).toBe("succeeded");
    expect(first.counts).toEqual({ new: 23, updated: 0, unchanged: 0, failed: 1 });
    expect(first.total).toBe(24);
    expect(first.cursor).toEqual({ next: null, pages: 3 });
    const ids = def.control.clients(username).map((c) => c.id);
    expect(first.errors).toEqual([
      {
        externalId: ids[3],
        reason: "partner1Email must be an email address like name@example.com",
        fields: { partner1Email: ["must be an email address like name@example.com"] },
      },
    ]);
    expect(await coupleCount(hub.ctx, supplierId)).toBe(23);

    // Politeness at the portal: sign-in (2 requests) and 3 pages, never two within a second.
    const log = def.control.requestLog().filter((r) => r.at >= from);
    expect(log.map((r) => r.path)).toEqual(["/login", "/login", "/clients", "/clients", "/clients"]);
    for (let i = 1; i < log.length; i++) expect(log[i]!.at - log[i - 1]!.at).toBeGreaterThanOrEqual(900);

    const second = await importToEnd(hub.ctx, connectionId);
    expect(second.status).toBe("succeeded");
    expect(second.counts).toEqual({ new: 0, updated: 0, unchanged: 23, failed: 1 });
    expect(await coupleCount(hub.ctx, supplierId)).toBe(23);
  });

  it("a wrong password fails the run with a clear reason (and fails the connection test)", async () => {
    await setRate({ requests: 50, perSeconds: 1 });
    const { username, supplierId, connectionId } = await connect({ count: 5, seed: 42 });
    const tested = await testCredentials("lightblue", { username, password: "not-the-password" }, hub.ctx);
    expect(tested).toEqual({
      ok: false,
      message: `LightBlue refused the username and password for "${username}". Check them and reconnect LightBlue.`,
    });
    // The studio changed its password at LightBlue after connecting.
    await hub.ctx.db
      .update(connections)
      .set({ credentialsEnc: hub.ctx.vault.encryptJson({ username, password: "old-password" }) })
      .where(sql`id = ${connectionId}`);
    const run = await importToEnd(hub.ctx, connectionId);
    expect(run.status).toBe("failed");
    expect(run.errors).toEqual([
      {
        externalId: null,
        reason: `LightBlue refused the username and password for "${username}". Check them and reconnect LightBlue.`,
      },
    ]);
    expect(await coupleCount(hub.ctx, supplierId)).toBe(0);
    expect(def.control.stats(username).loginFailures).toBeGreaterThanOrEqual(2);
  });

  it("signs in again when the session expires mid-run, and loses nothing", async () => {
    await setRate({ requests: 50, perSeconds: 1 });
    const { username, supplierId, connectionId } = await connect({ count: 45, seed: 43 });
    def.control.setSessionMaxPages(username, 2);
    const before = def.control.stats(username);
    const run = await importToEnd(hub.ctx, connectionId);
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 45, updated: 0, unchanged: 0, failed: 0 });
    expect(await coupleCount(hub.ctx, supplierId)).toBe(45);
    const after = def.control.stats(username);
    // 5 pages at 2 per session: 3 sessions, 2 of them after the portal sent us to the login page.
    expect(after.logins - before.logins).toBe(3);
    expect(after.redirectsToLogin - before.redirectsToLogin).toBe(2);
    expect(after.pages - before.pages).toBe(5);
  });
});

describe("LightBlue portal simulator", () => {
  it("guards the client list behind a CSRF-protected login and a session cookie", async () => {
    def.control.addAccount({ username: "contract-user", password: "contract-pass", count: 12, seed: 5 });
    const list = await fetch(`${sim.url}/clients?page=2`, { redirect: "manual" });
    expect(list.status).toBe(302);
    expect(list.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/clients?page=2")}`);

    const loginPage = await fetch(`${sim.url}/login`);
    const cookie = loginPage.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const $ = cheerio.load(await loginPage.text());
    const token = $('input[name="authenticity_token"]').attr("value");
    expect(token).toMatch(/^[\w-]{20,}$/);
    const post = (body: Record<string, string>, withCookie = true) =>
      fetch(`${sim.url}/login`, {
        method: "POST",
        body: new URLSearchParams(body),
        headers: withCookie ? { cookie } : {},
        redirect: "manual",
      });
    // Without the form's token (or its cookie) the portal refuses the form.
    expect((await post({ username: "contract-user", password: "contract-pass" }, false)).status).toBe(403);
    // The token is single-use: fetch a fresh form and sign in.
    const again = await fetch(`${sim.url}/login`);
    const cookie2 = again.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const token2 = cheerio
      .load(await again.text())('input[name="authenticity_token"]')
      .attr("value")!;
    const ok = await fetch(`${sim.url}/login`, {
      method: "POST",
      body: new URLSearchParams({
        authenticity_token: token2,
        username: "contract-user",
        password: "contract-pass",
        next: "/clients?page=2",
      }),
      headers: { cookie: cookie2 },
      redirect: "manual",
    });
    expect(ok.status).toBe(302);
    expect(ok.headers.get("location")).toBe("/clients?page=2");
    const session = ok.headers
      .getSetCookie()
      .find((c) => c.startsWith("lb_session="))!
      .split(";")[0]!;
    const page2 = cheerio.load(await (await fetch(`${sim.url}/clients?page=2`, { headers: { cookie: session } })).text());
    expect(page2("table#clients tbody tr")).toHaveLength(2);
    expect(page2('a[rel="next"]')).toHaveLength(0);
    expect(page2("[data-total]").attr("data-total")).toBe("12");
    expect(def.control.expireSessions("contract-user")).toBe(1);
    expect((await fetch(`${sim.url}/clients`, { headers: { cookie: session }, redirect: "manual" })).status).toBe(302);
  });
});
