// The core-fields API on the real database: versions, conflicts, validation,
// access, event paging and the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Database } from "../../app/db.server";
import { createApiToken, revokeApiToken } from "../../app/auth/api-tokens.server";
import { API_ROUTES } from "../../app/http/api-routes.server";
import { openApiPath } from "../../app/http/openapi.server";
import { apiClient } from "../helpers/api";
import { makeCouple, makeSupplier, openTestDatabase, startTestHub, testActor } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
let wedme: ReturnType<typeof apiClient>;
let wedmeToken: string;

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
  wedmeToken = (
    await createApiToken(
      database.db,
      { name: "wedme app", kind: "wedme", scopes: ["core-fields:read", "core-fields:write", "events:read"] },
      testActor,
    )
  ).token;
  wedme = apiClient(hub.url, wedmeToken);
});
afterAll(async () => {
  await hub?.stop();
  await database?.close();
});

const countEvents = async (coupleId: string) =>
  (await database.db.execute<{ n: number }>(sql`select count(*)::int n from events where couple_id = ${coupleId}`)).rows[0]!.n;

describe("GET and PATCH /couples/:id/core-fields", () => {
  it("reads with an ETag and writes a new version with an If-Match", async () => {
    const coupleId = await makeCouple(database.db, [], { guestCount: 120, venueName: "Old Mill" });
    const read = await wedme("GET", `/couples/${coupleId}/core-fields`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ coupleId, version: 1, fields: { guestCount: 120, venueName: "Old Mill" } });
    expect(read.headers.get("etag")).toBe('"1"');

    const write = await wedme(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      { fields: { guestCount: 150 } },
      { "if-match": '"1"' },
    );
    expect(write.status).toBe(200);
    expect(write.body).toMatchObject({ version: 2, changed: true, seq: 1, fields: { guestCount: 150, venueName: "Old Mill" } });
    expect(write.headers.get("etag")).toBe('"2"');

    const events = await wedme<{ items: { seq: number; changedFields: unknown; source: string; version: number }[] }>(
      "GET",
      `/couples/${coupleId}/events?after=0`,
    );
    expect(events.body.items).toEqual([
      expect.objectContaining({ seq: 1, version: 2, source: "wedme", changedFields: { guestCount: { old: 120, new: 150 } } }),
    ]);
  });

  it("accepts the version in the body, and creates no event for a write that changes nothing", async () => {
    const coupleId = await makeCouple(database.db, [], { guestCount: 80 });
    const same = await wedme("PATCH", `/couples/${coupleId}/core-fields`, { fields: { guestCount: 80 }, version: 1 });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 1, changed: false, seq: null });
    expect(await countEvents(coupleId)).toBe(0);
  });

  it("answers 428 without a version and 400 for a malformed If-Match", async () => {
    const coupleId = await makeCouple(database.db, []);
    const none = await wedme<{ error: { message: string } }>("PATCH", `/couples/${coupleId}/core-fields`, {
      fields: { guestCount: 1 },
    });
    expect(none.status).toBe(428);
    expect(none.body.error.message).toContain("If-Match");
    const bad = await wedme(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      { fields: { guestCount: 1 } },
      { "if-match": "yesterday" },
    );
    expect(bad.status).toBe(400);
  });

  it("lets exactly one of two concurrent writers with the same version win; the other gets 409 with the current version", async () => {
    const coupleId = await makeCouple(database.db, [], { guestCount: 100 });
    type Conflict = { error: { details: { currentVersion: number }; message: string } };
    const [a, b] = await Promise.all([
      wedme<Conflict>("PATCH", `/couples/${coupleId}/core-fields`, { fields: { guestCount: 101 } }, { "if-match": '"1"' }),
      wedme<Conflict>("PATCH", `/couples/${coupleId}/core-fields`, { fields: { guestCount: 102 } }, { "if-match": '"1"' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.details.currentVersion).toBe(2);
    expect(loser.body.error.message).toContain("current version is 2");
    expect(await countEvents(coupleId)).toBe(1);
  });

  it("answers 422 with a message per field for unknown fields and invalid values, and writes nothing", async () => {
    const coupleId = await makeCouple(database.db, [], { guestCount: 100 });
    const res = await wedme<{ error: { fields: Record<string, string[]> } }>(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      {
        fields: {
          guestCount: -5,
          weddingDate: "2027-02-30",
          partner1Email: "nope",
          favouriteColour: "blue",
          timezone: "Mars/Olympus",
        },
      },
      { "if-match": '"1"' },
    );
    expect(res.status).toBe(422);
    expect(res.body.error.fields).toEqual({
      guestCount: ["must not be negative"],
      weddingDate: ["is not a real calendar date"],
      partner1Email: ["must be an email address like name@example.com"],
      favouriteColour: [expect.stringContaining("is not a known field")],
      timezone: ["must be an IANA time zone like Europe/London"],
    });
    const after = await wedme<{ version: number; fields: Record<string, unknown> }>("GET", `/couples/${coupleId}/core-fields`);
    expect(after.body).toMatchObject({ version: 1, fields: { guestCount: 100 } });
    expect(await countEvents(coupleId)).toBe(0);
  });

  it("refuses a field the writer may not change (403) and a revoked token (401)", async () => {
    const supplier = await makeSupplier(database.db);
    const coupleId = await makeCouple(database.db, [supplier.id]);
    const { token, principal } = await createApiToken(
      database.db,
      { name: "vendor crm", kind: "supplier", supplierId: supplier.id, scopes: ["core-fields:read", "core-fields:write"] },
      testActor,
    );
    const vendor = apiClient(hub.url, token);
    const forbidden = await vendor<{ error: { message: string } }>(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      { fields: { guestCount: 3 } },
      { "if-match": "1" },
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.message).toContain("guestCount");
    const allowed = await vendor(
      "PATCH",
      `/couples/${coupleId}/core-fields`,
      { fields: { ceremonyTime: "15:30" } },
      { "if-match": "1" },
    );
    expect(allowed.status).toBe(200);
    await revokeApiToken(database.db, principal.tokenId, testActor);
    expect((await vendor("GET", `/couples/${coupleId}/core-fields`)).status).toBe(401);
  });
});

describe("supplier access", () => {
  it("gives a supplier 404 for couples it is not connected to, and its feed only", async () => {
    const mine = await makeSupplier(database.db);
    const other = await makeSupplier(database.db);
    const myCouple = await makeCouple(database.db, [mine.id], { guestCount: 10 });
    const notMine = await makeCouple(database.db, [other.id], { guestCount: 20 });
    const { token } = await createApiToken(
      database.db,
      { name: "feed reader", kind: "supplier", supplierId: mine.id, scopes: ["core-fields:read", "events:read"] },
      testActor,
    );
    const vendor = apiClient(hub.url, token);
    expect((await vendor("GET", `/couples/${myCouple}/core-fields`)).status).toBe(200);
    expect((await vendor("GET", `/couples/${notMine}/core-fields`)).status).toBe(404);
    expect((await vendor("GET", `/couples/${notMine}/events`)).status).toBe(404);
    expect((await vendor("GET", `/suppliers/${other.id}/events`)).status).toBe(404);
    expect((await vendor("GET", `/couples/not-a-uuid/core-fields`)).status).toBe(404);

    await wedme("PATCH", `/couples/${myCouple}/core-fields`, { fields: { guestCount: 11 } }, { "if-match": "1" });
    await wedme("PATCH", `/couples/${notMine}/core-fields`, { fields: { guestCount: 21 } }, { "if-match": "1" });
    await wedme("PATCH", `/couples/${myCouple}/core-fields`, { fields: { guestCount: 12 } }, { "if-match": "2" });
    const feed = await vendor<{ items: { coupleId: string; streamSeq: number; seq: number }[]; next: number }>(
      "GET",
      `/suppliers/${mine.id}/events?after=0&limit=1`,
    );
    expect(feed.body.items).toEqual([expect.objectContaining({ coupleId: myCouple, streamSeq: 1, seq: 1 })]);
    const rest = await vendor<{ items: { coupleId: string; streamSeq: number }[]; hasMore: boolean }>(
      "GET",
      `/suppliers/${mine.id}/events?after=${feed.body.next}`,
    );
    expect(rest.body.items.map((i) => [i.coupleId, i.streamSeq])).toEqual([[myCouple, 2]]);
    expect(rest.body.hasMore).toBe(false);
  });

  it("lets a vendor update its own fields (versioned) and the couple's app read them", async () => {
    const supplier = await makeSupplier(database.db);
    const coupleId = await makeCouple(database.db, [supplier.id]);
    const { token } = await createApiToken(
      database.db,
      { name: "vendor app", kind: "supplier", supplierId: supplier.id, scopes: ["core-fields:read", "core-fields:write"] },
      testActor,
    );
    const vendor = apiClient(hub.url, token);
    const path = `/suppliers/${supplier.id}/couples/${coupleId}/vendor-fields`;
    const first = await vendor(
      "PATCH",
      path,
      { fields: { availability: "confirmed", arrivalTime: "11:30" } },
      { "if-match": "0" },
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ version: 1, changed: true });
    const stale = await vendor("PATCH", path, { fields: { arrivalTime: "12:00" } }, { "if-match": "0" });
    expect(stale.status).toBe(409);
    const invalid = await vendor<{ error: { fields: Record<string, string[]> } }>(
      "PATCH",
      path,
      { fields: { availability: "maybe" } },
      { "if-match": "1" },
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.fields.availability).toEqual(["must be confirmed, tentative or unavailable"]);
    const seen = await wedme<{ items: { supplierId: string; fields: Record<string, unknown> }[] }>(
      "GET",
      `/couples/${coupleId}/vendor-fields`,
    );
    expect(seen.body.items).toEqual([
      expect.objectContaining({ supplierId: supplier.id, fields: { availability: "confirmed", arrivalTime: "11:30" } }),
    ]);
    const events = await wedme<{ items: { type: string; supplierId: string }[] }>("GET", `/couples/${coupleId}/events`);
    expect(events.body.items).toEqual([expect.objectContaining({ type: "vendor_fields.updated", supplierId: supplier.id })]);
    const byCouple = await wedme("PATCH", path, { fields: { arrivalTime: "09:00" } }, { "if-match": "1" });
    expect(byCouple.status).toBe(403);
  });
});

describe("vendor-owned fields stay between the vendor and the couple", () => {
  it("hides one vendor's own-field changes from the other vendors of the wedding", async () => {
    const [a, b] = [await makeSupplier(database.db), await makeSupplier(database.db)];
    const coupleId = await makeCouple(database.db, [a.id, b.id]);
    const tokenFor = async (supplierId: string) =>
      (
        await createApiToken(
          database.db,
          { name: "vf", kind: "supplier", supplierId, scopes: ["core-fields:read", "core-fields:write", "events:read"] },
          testActor,
        )
      ).token;
    const vendorA = apiClient(hub.url, await tokenFor(a.id));
    const vendorB = apiClient(hub.url, await tokenFor(b.id));
    await vendorA(
      "PATCH",
      `/suppliers/${a.id}/couples/${coupleId}/vendor-fields`,
      { fields: { vendorNotes: "A's private note" } },
      { "if-match": "0" },
    );
    await wedme("PATCH", `/couples/${coupleId}/core-fields`, { fields: { guestCount: 99 } }, { "if-match": "1" });

    const seenByB = await vendorB<{ items: { type: string; seq: number }[] }>("GET", `/couples/${coupleId}/events`);
    expect(seenByB.body.items.map((i) => [i.type, i.seq])).toEqual([["core_fields.updated", 2]]);
    const feedB = await vendorB<{ items: { type: string }[] }>("GET", `/suppliers/${b.id}/events`);
    expect(feedB.body.items.map((i) => i.type)).toEqual(["core_fields.updated"]);
    const fieldsB = await vendorB<{ items: { supplierId: string }[] }>("GET", `/couples/${coupleId}/vendor-fields`);
    expect(fieldsB.body.items.map((i) => i.supplierId)).toEqual([b.id]);
    expect((await vendorB("GET", `/suppliers/${a.id}/couples/${coupleId}/vendor-fields`)).status).toBe(404);

    const seenByA = await vendorA<{ items: { type: string }[] }>("GET", `/couples/${coupleId}/events`);
    expect(seenByA.body.items.map((i) => i.type)).toEqual(["vendor_fields.updated", "core_fields.updated"]);
    const seenByCouple = await wedme<{ items: { type: string }[] }>("GET", `/couples/${coupleId}/events`);
    expect(seenByCouple.body.items).toHaveLength(2);
  });
});

describe("OpenAPI", () => {
  it("validates as OpenAPI 3.1 and lists every /api/v1 route", async () => {
    const res = await fetch(`${hub.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(doc.openapi).toBe("3.1.0");

    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const declared = API_ROUTES.map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    expect(documented.sort()).toEqual(declared.sort());

    // ...and every route the server answers (not 404 "No API route") is among them.
    for (const r of API_ROUTES) {
      const probe = await fetch(`${hub.url}/api/v1${r.path.replace(/:[A-Za-z]+/g, "00000000-0000-0000-0000-000000000000")}`, {
        method: r.method.toUpperCase(),
      });
      expect(probe.status, `${r.method} ${r.path}`).toBe(401);
    }
  });
});
