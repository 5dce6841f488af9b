// 17hats contacts into WedSync: a connection made through the real "test, then
// save" credential path against the 17hats simulator, the import job run to the
// end. Exact counts, a re-run all unchanged, one malformed contact failing alone,
// a refused key, the per-account 429s waited out, and the simulator's contract.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectWithCredentials, testCredentials } from "../../app/connectors/credentials.server";
import { makeSupplier, startTestHub, testActor, unique } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import {
  createSeventeenHatsSimulator,
  type SeventeenHatsAccountInput,
  type SeventeenHatsSimulatorDefinition,
} from "../../simulators/seventeen-hats/index";
import { coupleCount, importToEnd } from "./crm-helpers";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: SeventeenHatsSimulatorDefinition;
let sim: RunningSimulator;

beforeAll(async () => {
  def = createSeventeenHatsSimulator();
  sim = await startSimulator(def);
  hub = await startTestHub({ config: { providerApiRoots: { "seventeen-hats": sim.url } } });
});
afterAll(async () => {
  await hub?.stop();
  await sim?.close();
});

async function connect(account: Omit<SeventeenHatsAccountInput, "apiKey">) {
  const apiKey = unique("17hats-key");
  def.control.addAccount({ apiKey, ...account });
  const supplier = await makeSupplier(hub.ctx.db);
  const saved = await connectWithCredentials(hub.ctx, {
    supplierId: supplier.id,
    connectorId: "seventeen-hats",
    values: { apiKey },
    actor: testActor,
  });
  if (!saved.ok) throw new Error(saved.message);
  return { apiKey, supplierId: supplier.id, connectionId: saved.connectionId, accountLabel: saved.accountLabel };
}

describe("17hats import", () => {
  it("imports every contact over several pages; a malformed one fails alone; a re-run is all unchanged", async () => {
    const { apiKey, supplierId, connectionId, accountLabel } = await connect({
      count: 60,
      seed: 31,
      malformedEmail: [4],
      businessName: "Bell & Co",
    });
    expect(accountLabel).toBe("Bell & Co");
    const first = await importToEnd(hub.ctx, connectionId, { pageSize: 25 });
    expect(first.status).toBe("succeeded");
    expect(first.counts).toEqual({ new: 59, updated: 0, unchanged: 0, failed: 1 });
    expect(first.total).toBe(60);
    expect(first.cursor).toEqual({ next: null, pages: 3 });
    const ids = def.control.contacts(apiKey).map((c) => String(c.id));
    expect(first.errors).toEqual([
      {
        externalId: ids[4],
        reason: "partner1Email must be an email address like name@example.com",
        fields: { partner1Email: ["must be an email address like name@example.com"] },
      },
    ]);
    expect(await coupleCount(hub.ctx, supplierId)).toBe(59);

    const second = await importToEnd(hub.ctx, connectionId, { pageSize: 25 });
    expect(second.counts).toEqual({ new: 0, updated: 0, unchanged: 59, failed: 1 });

    // A change at the source is an update, the rest stays unchanged.
    def.control.updateContact(apiKey, Number(ids[0]), (c) => {
      c.guest_count = "321";
    });
    const third = await importToEnd(hub.ctx, connectionId, { pageSize: 25 });
    expect(third.counts).toEqual({ new: 0, updated: 1, unchanged: 58, failed: 1 });
    expect(await coupleCount(hub.ctx, supplierId)).toBe(59);
  });

  it("a wrong API key is refused by the test and nothing is saved", async () => {
    const result = await testCredentials("seventeen-hats", { apiKey: "not-a-key-17hats-knows" }, hub.ctx);
    expect(result).toEqual({ ok: false, message: expect.stringContaining("17hats refused that API key") });
    // Without the hub's context the test cannot know where 17hats is, and says so.
    expect((await testCredentials("seventeen-hats", { apiKey: "x" })).ok).toBe(false);
  });

  it("waits out the account's 429s (Retry-After) and completes", async () => {
    const { apiKey, supplierId, connectionId } = await connect({
      count: 30,
      seed: 32,
      rateLimit: { requests: 2, windowSeconds: 1 },
    });
    const run = await importToEnd(hub.ctx, connectionId, { pageSize: 5 });
    expect(run.status).toBe("succeeded");
    expect(run.counts).toEqual({ new: 30, updated: 0, unchanged: 0, failed: 0 });
    expect(def.control.stats(apiKey).rateLimited).toBeGreaterThan(0);
    expect(await coupleCount(hub.ctx, supplierId)).toBe(30);
  });
});

describe("17hats simulator", () => {
  it("answers 401 without a valid key, pages contacts with meta, and limits each account", async () => {
    def.control.addAccount({ apiKey: "contract-key-1", count: 7, seed: 3, rateLimit: { requests: 3, windowSeconds: 30 } });
    expect((await fetch(`${sim.url}/api/v1/contacts`)).status).toBe(401);
    expect((await fetch(`${sim.url}/api/v1/contacts`, { headers: { "X-API-KEY": "nope" } })).status).toBe(401);
    const get = (q: string) => fetch(`${sim.url}/api/v1/contacts${q}`, { headers: { "X-API-KEY": "contract-key-1" } });
    const body = (await (await get("?page=2&per_page=5")).json()) as { contacts: { id: number }[]; meta: Record<string, number> };
    expect(body.meta).toEqual({ page: 2, per_page: 5, total: 7, total_pages: 2 });
    expect(body.contacts.map((c) => c.id)).toEqual(
      def.control
        .contacts("contract-key-1")
        .slice(5)
        .map((c) => c.id),
    );
    expect((await get("?page=1")).status).toBe(200);
    expect((await get("?page=0")).status).toBe(400);
    const limited = await get("");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});
