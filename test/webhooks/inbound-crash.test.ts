// Durable acknowledgement: a real hub process (web role: no worker there to
// process anything) acknowledges a verified delivery and is killed with
// SIGKILL right after the 2xx. A worker process started afterwards processes
// the delivery exactly once: core-field version +1, one event.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { createVault } from "../../app/crypto/secrets.server";
import { createMapping, publishDraft, saveDraft } from "../../app/mapping/store.server";
import { createInboundEndpoint, INBOUND_PATH } from "../../app/webhooks/inbound/endpoints.server";
import { signRequest } from "../../app/webhooks/inbound/schemes";
import { coreFields, events, webhookAttempts, webhookDeliveries } from "../../db/schema";
import { makeCouple, openTestDatabase, testActor, testDatabaseUrl, unique } from "../helpers/hub";
import { freePort, spawnHub, waitFor, type HubProcess } from "../helpers/processes";

const key = crypto.randomBytes(32);
const vault = createVault([{ id: "crash", key }]);
let database: Database;
const procs: HubProcess[] = [];
let env: Record<string, string>;
let webUrl = "";

beforeAll(async () => {
  database = openTestDatabase();
  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  env = {
    DATABASE_URL: testDatabaseUrl(),
    PORT: String(port),
    HOST: "127.0.0.1",
    HUB_PUBLIC_URL: webUrl,
    // The processes must decrypt the endpoint's secret this test encrypted.
    HUB_ENCRYPTION_KEYS: `crash:${key.toString("base64")}`,
  };
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop("SIGTERM")));
  await database?.close();
});

describe("SIGKILL right after the 2xx", () => {
  it("the delivery is processed after a worker starts, exactly once", async () => {
    const db = database.db;
    const slug = unique("crash-map").toLowerCase();
    const mapping = await createMapping(
      db,
      { slug, name: slug, source: { connector: "webhook", object: "payload" }, target: "core-fields" },
      testActor,
    );
    await saveDraft(db, slug, { expression: `{ "guestCount": data.guests }`, cases: [] }, testActor);
    await publishDraft(db, slug, testActor);
    const { endpoint, secret } = await createInboundEndpoint(
      db,
      vault,
      {
        name: unique("crash-source"),
        scheme: { id: "standard-webhooks" },
        mappingId: mapping.id,
        applyAs: "core-fields",
        coupleIdExpression: "data.coupleId",
      },
      { actor: testActor },
    );
    const coupleId = await makeCouple(db, [], { guestCount: 50 });

    const web = spawnHub(["--role=web"], env);
    procs.push(web);
    await waitFor(async () => (await fetch(`${webUrl}/readyz`)).ok, "web /readyz", 60_000);

    const req = signRequest(
      { id: "standard-webhooks" },
      {
        url: `${webUrl}${INBOUND_PATH(endpoint.id)}`,
        secret,
        payload: { data: { coupleId, guests: 175 } },
        now: new Date(),
        id: "msg_crash_1",
      },
    );
    const res = await fetch(req.url, { method: "POST", headers: req.headers, body: req.body });
    expect(res.status).toBe(202);
    // Killed at once: no graceful shutdown, nothing flushed after the answer.
    web.child.kill("SIGKILL");
    await web.exited;

    const [stored] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
    expect(stored).toMatchObject({ externalId: "msg_crash_1", status: "received" });
    const jobs = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from graphile_worker._private_jobs where key = ${`webhook-in:${stored!.id}`}`,
    );
    expect(jobs.rows[0]!.n).toBe(1);
    expect((await db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId)))[0]!.version).toBe(1);

    const worker = spawnHub(["--role=worker"], env);
    procs.push(worker);
    await waitFor(
      async () => {
        const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, stored!.id));
        return d?.status === "processed";
      },
      "the delivery processed by the worker",
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- worker output ---\n${worker.output().slice(-4000)}`);
    });
    // Room for a duplicate to show up before counting.
    await new Promise((r) => setTimeout(r, 1500));

    const [core] = await db.select().from(coreFields).where(eq(coreFields.coupleId, coupleId));
    expect(core!.version).toBe(2);
    expect(core!.fields.guestCount).toBe(175);
    const webhookEvents = await db
      .select()
      .from(events)
      .where(and(eq(events.coupleId, coupleId), eq(events.source, "webhook")));
    expect(webhookEvents).toHaveLength(1);
    expect(await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, stored!.id))).toHaveLength(1);
    expect(await worker.stop("SIGTERM")).toBe(0);
  });
});
