// Realtime delivery with the real database, real Socket.IO clients (through
// the shipped client helper) and, for cross-process delivery, a real worker process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { apiClient } from "../helpers/api";
import { makeCouple, makeSupplier, openTestDatabase, startTestHub, testActor, testDatabaseUrl } from "../helpers/hub";
import { listen, range, seqs, type Listener } from "../helpers/realtime";
import { spawnHub, waitFor, type HubProcess } from "../helpers/processes";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let wedmeToken: string;
let wedme: ReturnType<typeof apiClient>;
const listeners: Listener[] = [];
const processes: HubProcess[] = [];

const token = async (kind: "wedme" | "wedsync" | "supplier" | "ops", supplierId?: string) =>
  (
    await createApiToken(
      database.db,
      { name: `rt-${kind}`, kind, supplierId, scopes: ["core-fields:read", "core-fields:write", "events:read"] },
      testActor,
    )
  ).token;

function track(l: Listener): Listener {
  listeners.push(l);
  return l;
}

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
  wedmeToken = await token("wedme");
  wedme = apiClient(hub.url, wedmeToken);
});
afterAll(async () => {
  listeners.forEach((l) => l.client.close());
  await Promise.all(processes.map((p) => p.stop()));
  await hub?.stop();
  await database?.close();
});

/** PATCH until it wins: read the version, write with If-Match, retry on 409. */
async function writeWithRetry(coupleId: string, fields: Record<string, unknown>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const current = await wedme<{ version: number }>("GET", `/couples/${coupleId}/core-fields`);
    const res = await wedme<{ seq: number }>(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      { fields },
      { "if-match": `"${current.body.version}"` },
    );
    if (res.status === 200) return res.body.seq;
    if (res.status !== 409) throw new Error(`unexpected ${res.status}`);
  }
  throw new Error("writer starved");
}

describe("ordering under concurrency", () => {
  it("20 concurrent writers on one couple: gapless sequences, every listener gets each event once, in order", async () => {
    const [s1, s2] = [await makeSupplier(database.db), await makeSupplier(database.db)];
    const coupleId = await makeCouple(database.db, [s1.id, s2.id], { guestCount: 1 });
    const coupleListener = track(listen(hub.url, wedmeToken, [{ room: `couple:${coupleId}`, after: 0 }]));
    const supplier1 = track(listen(hub.url, await token("supplier", s1.id), [{ room: `supplier:${s1.id}`, after: 0 }]));
    const supplier2 = track(listen(hub.url, await token("supplier", s2.id), [{ room: `supplier:${s2.id}`, after: 0 }]));
    const staff = track(listen(hub.url, await token("ops"), [{ room: `couple:${coupleId}` }]));
    await Promise.all([coupleListener.joined, supplier1.joined, supplier2.joined, staff.joined]);

    const written = await Promise.all(range(1, 20).map((i) => writeWithRetry(coupleId, { guestCount: 100 + i })));
    expect(written.sort((a, b) => a - b)).toEqual(range(1, 20));

    const inDb = await database.db.execute<{ seq: string }>(
      sql`select seq from events where couple_id = ${coupleId} order by seq`,
    );
    expect(inDb.rows.map((r) => Number(r.seq))).toEqual(range(1, 20));

    for (const l of [coupleListener, supplier1, supplier2, staff]) {
      await l.waitFor(20);
      expect(seqs(l.events)).toEqual(range(1, 20));
      // The server itself sent each event once on this connection, in order.
      expect(seqs(l.raw)).toEqual(range(1, 20));
      expect(l.events.map((e) => e.event.seq)).toEqual(range(1, 20));
    }
    // Versions follow the sequence.
    expect(coupleListener.events.map((e) => e.event.version)).toEqual(range(2, 21));
  });
});

describe("isolation", () => {
  it("a supplier not connected to a couple is refused its room and receives none of its events", async () => {
    const [connected, outsider] = [await makeSupplier(database.db), await makeSupplier(database.db)];
    const coupleId = await makeCouple(database.db, [connected.id]);
    const outsiderToken = await token("supplier", outsider.id);
    const refused = track(listen(hub.url, outsiderToken, [{ room: `couple:${coupleId}` }]));
    const own = track(listen(hub.url, outsiderToken, [{ room: `supplier:${outsider.id}`, after: 0 }]));
    const foreignFeed = track(listen(hub.url, outsiderToken, [{ room: `supplier:${connected.id}` }]));
    const insider = track(
      listen(hub.url, await token("supplier", connected.id), [{ room: `supplier:${connected.id}`, after: 0 }]),
    );
    await Promise.all([own.joined, insider.joined]);
    await waitFor(async () => refused.errors.length > 0 && foreignFeed.errors.length > 0, "refusals");
    expect(refused.errors[0]?.message).toBe(`You may not join couple:${coupleId}.`);
    expect(foreignFeed.errors[0]?.message).toBe(`You may not join supplier:${connected.id}.`);

    await writeWithRetry(coupleId, { guestCount: 42 });
    await insider.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(refused.raw).toEqual([]);
    expect(own.raw).toEqual([]);
    expect(foreignFeed.raw).toEqual([]);
    const api = apiClient(hub.url, outsiderToken);
    expect((await api("GET", `/couples/${coupleId}/core-fields`)).status).toBe(404);
  });
});

describe("resume", () => {
  it("a socket that misses 100 updates resumes from its last sequence and gets all 100 in order, once", async () => {
    const coupleId = await makeCouple(database.db, [], { guestCount: 0 });
    const l = track(listen(hub.url, wedmeToken, [{ room: `couple:${coupleId}` }]));
    await l.joined;
    await writeWithRetry(coupleId, { guestCount: 1 });
    await l.waitFor(1);
    expect(l.client.lastSeq(`couple:${coupleId}`)).toBe(1);

    l.client.socket.disconnect();
    for (let i = 2; i <= 101; i++) await writeWithRetry(coupleId, { guestCount: i });

    const rawBefore = l.raw.length;
    l.client.socket.connect();
    await l.waitFor(101);
    await new Promise((r) => setTimeout(r, 300));
    expect(seqs(l.events)).toEqual(range(1, 101));
    expect(seqs(l.raw.slice(rawBefore))).toEqual(range(2, 101));
    expect(l.events.at(-1)!.event.changedFields).toEqual({ guestCount: { old: 100, new: 101 } });

    // Live events keep flowing after the replay.
    await writeWithRetry(coupleId, { guestCount: 102 });
    await l.waitFor(102);
    expect(l.events.at(-1)!.seq).toBe(102);
  });
});

describe("cross-process delivery", () => {
  it("an event written by a separate worker process reaches a socket connected to this web process", async () => {
    const supplier = await makeSupplier(database.db);
    const coupleId = await makeCouple(database.db, [supplier.id], { guestCount: 7 });
    const l = track(listen(hub.url, await token("supplier", supplier.id), [{ room: `supplier:${supplier.id}` }]));
    await l.joined;

    const worker = spawnHub(["--role=worker"], { DATABASE_URL: testDatabaseUrl() });
    processes.push(worker);
    await waitFor(async () => worker.output().includes("workers started"), "worker process", 60_000);
    await database.db.execute(
      sql`select graphile_worker.add_job('apply_core_fields', ${JSON.stringify({
        coupleId,
        patch: { guestCount: 77 },
        expectedVersion: "current",
        source: "import",
        writer: "couple",
        actor: "import:test",
      })}::json)`,
    );

    await l.waitFor(1, 30_000);
    expect(l.events[0]!.event).toMatchObject({
      coupleId,
      source: "import",
      actor: "import:test",
      changedFields: { guestCount: { old: 7, new: 77 } },
    });
    expect(l.events[0]!.room).toBe(`supplier:${supplier.id}`);
  });
});
