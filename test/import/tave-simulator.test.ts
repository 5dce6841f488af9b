// The Tave simulator's contract as the import relies on it: X-Api-Key or a 401
// JSON error, pages with total and next links, a per-account limit answered
// with 429 + Retry-After, deterministic seeded clients, HTTP control routes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createTaveSimulator, generateClients, type TaveSimulatorDefinition } from "../../simulators/tave/index";

let def: TaveSimulatorDefinition;
let sim: RunningSimulator;
beforeAll(async () => {
  def = createTaveSimulator({ accounts: [{ apiKey: "key-aaaaaaaa", count: 55, seed: 3 }] });
  sim = await startSimulator(def);
});
afterAll(async () => {
  await sim?.close();
});

const get = (path: string, key?: string) => fetch(`${sim.url}${path}`, { headers: key ? { "X-Api-Key": key } : {} });

interface Page {
  page: number;
  perPage: number;
  total: number;
  pageCount: number;
  items: { id: string }[];
  links: { next: { href: string } | null; prev: { href: string } | null };
}

describe("Tave simulator", () => {
  it("answers 401 with a JSON error without a valid API key", async () => {
    for (const key of [undefined, "wrong-key"]) {
      const res = await get("/api/v2/clients", key);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(401);
    }
  });

  it("pages clients in id order with total and next links", async () => {
    const seen: string[] = [];
    let url: string | null = `/api/v2/clients?page=1&per_page=20`;
    let pages = 0;
    while (url) {
      const body = (await (await get(url, "key-aaaaaaaa")).json()) as Page;
      pages++;
      expect(body.total).toBe(55);
      expect(body.pageCount).toBe(3);
      seen.push(...body.items.map((c) => c.id));
      url = body.links.next ? new URL(body.links.next.href).pathname + new URL(body.links.next.href).search : null;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(55);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).toEqual(generateClients({ count: 55, seed: 3 }).map((c) => c.id));
    // per_page is capped at 100, as Tave does.
    expect(((await (await get("/api/v2/clients?per_page=1000", "key-aaaaaaaa")).json()) as Page).perPage).toBe(100);
  });

  it("limits each account and answers 429 with Retry-After", async () => {
    def.control.addAccount({ apiKey: "key-limited", count: 3, rateLimit: { requests: 2, windowSeconds: 30 } });
    expect((await get("/api/v2/clients", "key-limited")).status).toBe(200);
    expect((await get("/api/v2/clients", "key-limited")).status).toBe(200);
    const limited = await get("/api/v2/clients", "key-limited");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(30);
    // Another account is not affected.
    expect((await get("/api/v2/clients", "key-aaaaaaaa")).status).toBe(200);
    expect(def.control.stats("key-limited")).toEqual({ requests: 3, rateLimited: 1 });
  });

  it("seeds accounts over the control API and changes clients in-process", async () => {
    const res = await fetch(`${sim.url}/__sim/tave/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiKey: "key-control", count: 4, seed: 9, malformedEmail: [2] }),
    });
    expect(res.status).toBe(201);
    const clients = def.control.clients("key-control");
    expect(clients).toHaveLength(4);
    const email = (c: (typeof clients)[number]) => (c.contacts as { contact: { email: string } }[])[0]!.contact.email;
    expect(email(clients[2]!)).toMatch(/@gmail$/);
    const changed = def.control.updateClient("key-control", clients[0]!.id, (r) => {
      r.guestCount = 99;
    });
    expect(changed.guestCount).toBe(99);
    const one = (await (await get(`/api/v2/clients/${clients[0]!.id}`, "key-control")).json()) as { guestCount: number };
    expect(one.guestCount).toBe(99);
  });
});
