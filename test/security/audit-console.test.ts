// The audit log in the console over HTTP (real hub, real sessions): filters
// narrow, bad filter values answer 400 with a message, keyset pages walk both
// ways, before/after show as a diff, and the CSV export is RFC 4180 (header,
// quotes, commas and newlines escaped; parsed back by a strict parser) for
// exactly the filtered rows. Only admin and ops may read it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { auditLog } from "../../db/schema";
import { CSV_HEADER } from "../../app/audit/query.server";
import { FormClient } from "../helpers/form-client";
import { makeSupplier, makeUser, startTestHub, unique } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let admin: FormClient;
let adminEmail: string;
const tag = unique("t");

// Far-future instants: only this file's rows fall in these windows.
const at = (iso: string) => new Date(`2091-01-${iso}Z`);
const TRICKY_NOTE = 'He said "hi, there",\nthen left';

beforeAll(async () => {
  hub = await startTestHub();
  const a = await makeUser(hub.ctx.db, "admin");
  adminEmail = a.email;
  admin = new FormClient(hub.url);
  expect((await admin.signIn(a.email, a.password)).status).toBe(302);

  await hub.ctx.db.insert(auditLog).values([
    {
      at: at("01T10:00:00"),
      actorType: "user",
      actorId: "u-1",
      actorLabel: `alice-${tag}@example.test`,
      action: "mapping.publish",
      entityType: "mapping",
      entityId: `m-${tag}`,
      before: { version: 1 },
      after: { version: 2 },
    },
    {
      at: at("01T11:00:00"),
      actorType: "api_token",
      actorId: "tok-1",
      actorLabel: `token:crm-${tag}`,
      action: "core_fields.update",
      entityType: "couple",
      entityId: `c-${tag}`,
      before: { guestCount: 100 },
      after: { guestCount: 120, note: TRICKY_NOTE },
    },
    {
      at: at("02T09:00:00"),
      actorType: "system",
      actorLabel: `Smith, "Bob" ${tag}`,
      action: "import.start",
      entityType: "connection",
      entityId: `x-${tag}`,
      after: { runId: "r1" },
    },
    {
      at: at("03T08:00:00"),
      actorType: "user",
      actorId: "u-1",
      actorLabel: `alice-${tag}@example.test`,
      action: "mapping.activate",
      entityType: "mapping",
      entityId: `m-${tag}`,
      before: { activeVersion: 2 },
      after: { activeVersion: 1 },
    },
    {
      at: at("04T08:00:00"),
      actorType: "system",
      actorLabel: `=HYPERLINK("http://evil.test") ${tag}`,
      action: "connector.settings",
      entityType: "connector",
      entityId: `formula-${tag}`,
    },
  ]);
});
afterAll(async () => {
  await hub?.stop();
});

/** The entry ids a page shows, in order. */
const idsOn = (html: string) => [...html.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
const idOf = async (entityId: string, action: string) =>
  (
    await hub.ctx.db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(and(eq(auditLog.entityId, entityId), eq(auditLog.action, action)))
  )[0]!.id;

async function page(query: string): Promise<{ status: number; text: string; ids: number[] }> {
  const res = await admin.get(`/console/audit${query}`);
  return { ...res, ids: idsOn(res.text) };
}

/** A strict RFC 4180 reader: CRLF after every record, quotes only around a whole field, "" inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"' && field === "") {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== "," && text[i] !== "\r") throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    const c = text[i]!;
    if (c === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (c === "\r") {
      if (text[i + 1] !== "\n") throw new Error(`bare CR at ${i}`);
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else if (c === "\n" || c === '"') {
      throw new Error(`unquoted ${JSON.stringify(c)} at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (field !== "" || row.length > 0) throw new Error("the last record does not end with CRLF");
  return rows;
}

describe("audit log console", () => {
  it("shows every entry newest first by default, with before/after as a diff", async () => {
    const all = await page("");
    expect(all.status).toBe(200);
    const b = await idOf(`c-${tag}`, "core_fields.update");
    expect(all.ids).toContain(b);
    expect(all.ids).toEqual([...all.ids].sort((x, y) => y - x));
    const one = await page(`?entityId=c-${tag}`);
    expect(one.ids).toEqual([b]);
    expect(one.text).toContain("<code>guestCount</code>: <del>100</del> → <ins>120</ins>");
    expect(one.text).toContain("<code>note</code>: <ins>");
  });

  it("narrows by actor type, actor, action (exact or prefix), entity and time range", async () => {
    const [a, b, c, d, e] = [
      await idOf(`m-${tag}`, "mapping.publish"),
      await idOf(`c-${tag}`, "core_fields.update"),
      await idOf(`x-${tag}`, "import.start"),
      await idOf(`m-${tag}`, "mapping.activate"),
      await idOf(`formula-${tag}`, "connector.settings"),
    ];
    expect((await page(`?actor=alice-${tag}`)).ids).toEqual([d, a]);
    expect((await page(`?actor=u-1&entityType=mapping`)).ids).toEqual([d, a]);
    expect((await page(`?actorType=api_token&actor=${tag}`)).ids).toEqual([b]);
    expect((await page(`?actorType=system&actor=${tag}`)).ids).toEqual([e, c]);
    expect((await page(`?action=mapping&actor=${tag}`)).ids).toEqual([d, a]);
    expect((await page(`?action=mapping.publish&actor=${tag}`)).ids).toEqual([a]);
    // A prefix must end at a dot: "map" is not "mapping".
    expect((await page(`?action=map&actor=${tag}`)).ids).toEqual([]);
    expect((await page(`?entityType=mapping&entityId=m-${tag}`)).ids).toEqual([d, a]);
    // LIKE wildcards in the actor text are literal.
    expect((await page(`?actor=%25${tag}`)).ids).toEqual([]);
    // From inclusive; a date-only "to" includes that whole day; no zone means UTC.
    expect((await page(`?from=2091-01-01T10:30&to=2091-01-02`)).ids).toEqual([c, b]);
    expect((await page(`?from=2091-01-01T11:00:00Z&to=2091-01-01T11:00`)).ids).toEqual([b]);
    expect((await page(`?from=2091-01-01T12:00%2B01:00&to=2091-01-03T08:00`)).ids).toEqual([d, c, b]);
    // The form shows the filters back.
    expect((await page(`?actor=alice-${tag}`)).text).toContain(`value="alice-${tag}"`);
  });

  it("answers 400 with a message for filter values it cannot use", async () => {
    const cases: [string, string][] = [
      ["?actorType=robot", "actorType must be one of user, api_token, system"],
      ["?from=yesterday", "from must be a date like 2026-05-01"],
      ["?from=2091-02-30", "from must be a date"],
      ["?to=2091-01-01T25:00", "to must be a date"],
      ["?from=2091-01-02&to=2091-01-01", "to must not be before from"],
      ["?action=mapping%20publish", "action must be an action like core_fields.update"],
      ["?before=abc", "before must be an entry id"],
      ["?limit=0", "limit must be 1 to 500"],
      [`?actor=${"x".repeat(201)}`, "actor must be at most 200 characters"],
    ];
    for (const [query, message] of cases) {
      const res = await page(query);
      expect(res.status, query).toBe(400);
      expect(res.text, query).toContain(message);
      expect(res.ids, query).toEqual([]);
      const csv = await admin.get(`/console/audit.csv${query}`);
      expect(csv.status, query).toBe(400);
      expect(csv.text, query).toContain(message);
    }
  });

  it("pages with a keyset both ways, keeping the filters", async () => {
    const entityType = unique("paged");
    const rows = await hub.ctx.db
      .insert(auditLog)
      .values(
        Array.from({ length: 7 }, (_, i) => ({
          actorType: "system" as const,
          actorLabel: "pager",
          action: `page.${i}`,
          entityType,
        })),
      )
      .returning({ id: auditLog.id });
    const ids = rows.map((r) => r.id).sort((x, y) => y - x);
    const link = (html: string, rel: "next" | "prev") => {
      const anchor = new RegExp(`<a [^>]*rel="${rel}"[^>]*>`).exec(html)?.[0];
      const m = anchor ? /href="([^"]+)"/.exec(anchor) : null;
      return m ? m[1]!.replace(/&amp;/g, "&").replace(/^\/console\/audit/, "") : null;
    };
    const first = await page(`?entityType=${entityType}&limit=3`);
    expect(first.ids).toEqual(ids.slice(0, 3));
    expect(link(first.text, "prev")).toBeNull();
    const second = await page(link(first.text, "next")!);
    expect(link(first.text, "next")).toContain(`entityType=${entityType}`);
    expect(second.ids).toEqual(ids.slice(3, 6));
    const third = await page(link(second.text, "next")!);
    expect(third.ids).toEqual(ids.slice(6));
    expect(link(third.text, "next")).toBeNull();
    const back = await page(link(third.text, "prev")!);
    expect(back.ids).toEqual(ids.slice(3, 6));
    const front = await page(link(back.text, "prev")!);
    expect(front.ids).toEqual(ids.slice(0, 3));
    expect(link(front.text, "prev")).toBeNull();
  });

  it("exports the filtered rows as RFC 4180 CSV with a header, escaping quotes, commas and newlines (audited)", async () => {
    const csv = await admin.get(`/console/audit.csv?actor=${tag}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-log-\d{8}-\d{6}\.csv"$/);
    const records = parseCsv(csv.text);
    expect(records[0]).toEqual([...CSV_HEADER]);
    const body = records.slice(1).map((r) => Object.fromEntries(CSV_HEADER.map((h, i) => [h, r[i]!])));
    expect(body.map((r) => r.action)).toEqual([
      "connector.settings",
      "mapping.activate",
      "import.start",
      "core_fields.update",
      "mapping.publish",
    ]);
    const update = body.find((r) => r.action === "core_fields.update")!;
    expect(update).toMatchObject({
      at: "2091-01-01T11:00:00.000Z",
      actor_type: "api_token",
      actor_id: "tok-1",
      entity_type: "couple",
      entity_id: `c-${tag}`,
    });
    expect(JSON.parse(update.before!)).toEqual({ guestCount: 100 });
    expect(JSON.parse(update.after!)).toEqual({ guestCount: 120, note: TRICKY_NOTE });
    expect(body.find((r) => r.action === "import.start")!).toMatchObject({ actor_label: `Smith, "Bob" ${tag}`, before: "" });
    // A leading = is defused for spreadsheets.
    expect(body.find((r) => r.action === "connector.settings")!.actor_label).toBe(`'=HYPERLINK("http://evil.test") ${tag}`);
    // The raw text really carries the RFC 4180 escapes.
    expect(csv.text).toContain(`"Smith, ""Bob"" ${tag}"`);
    expect(csv.text).toContain("\\n");

    const exports = await hub.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "audit.export"), eq(auditLog.actorLabel, adminEmail)));
    expect(exports.length).toBeGreaterThanOrEqual(1);
    expect(exports.at(-1)!.after).toEqual({ filters: { actor: tag } });
  });

  it("streams every matching row of a large export, across batches, newest first", async () => {
    const entityType = unique("bulk");
    await hub.ctx.db.insert(auditLog).values(
      Array.from({ length: 1234 }, (_, i) => ({
        actorType: "system" as const,
        actorLabel: "bulk",
        action: `bulk.${i}`,
        entityType,
      })),
    );
    const res = await admin.get(`/console/audit.csv?entityType=${entityType}`);
    expect(res.status).toBe(200);
    const records = parseCsv(res.text).slice(1);
    expect(records).toHaveLength(1234);
    const ids = records.map((r) => Number(r[0]));
    expect(new Set(ids).size).toBe(1234);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
  });

  it("is for admin and ops: integration staff get 403, vendors 404 (the console does not exist for them), visitors the sign-in page", async () => {
    const ops = await makeUser(hub.ctx.db, "ops");
    const opsClient = new FormClient(hub.url);
    await opsClient.signIn(ops.email, ops.password);
    expect((await opsClient.get("/console/audit")).status).toBe(200);
    expect((await opsClient.get("/console/audit.csv")).status).toBe(200);

    const integration = await makeUser(hub.ctx.db, "integration");
    const staff = new FormClient(hub.url);
    await staff.signIn(integration.email, integration.password);
    expect((await staff.get("/console/audit")).status).toBe(403);
    expect((await staff.get(`/console/audit.csv?actor=${tag}`)).status).toBe(403);

    const supplier = await makeSupplier(hub.ctx.db);
    const vendor = await makeUser(hub.ctx.db, "vendor", supplier.id);
    const vendorClient = new FormClient(hub.url);
    await vendorClient.signIn(vendor.email, vendor.password);
    expect((await vendorClient.get("/console/audit")).status).toBe(404);
    const vendorCsv = await vendorClient.get(`/console/audit.csv?actor=${tag}`);
    expect(vendorCsv.status).toBe(404);
    expect(vendorCsv.text).not.toContain(tag);

    const anonymous = await new FormClient(hub.url).get("/console/audit.csv");
    expect(anonymous.status).toBe(302);
    expect(anonymous.location).toMatch(/^\/login\?next=/);
  });
});
