// The engine is JSONata, exactly, plus guards, wedding functions and output validation.
import { describe, expect, it } from "vitest";
import jsonata from "jsonata";
import { compileMapping, runMapping, MappingEvaluationError, MappingSyntaxError, DEFAULT_GUARDS } from "../../app/mapping/engine";
import { weddingDateTime, isoDate, e164, splitName, joinName, guestCount, guestRange } from "../../app/mapping/functions";
import { expressionToGraph, graphToExpression, sourcePaths } from "../../app/mapping/graph";
import { inferSourceFields } from "../../app/mapping/infer";

const input = {
  id: 42,
  name: "Ana López",
  tags: ["vip", "june"],
  contacts: [
    { role: "primary", email: "ana@example.com", age: 31 },
    { role: "secondary", email: "ben@example.com", age: 33 },
  ],
  event: { date: "2027-06-12", guests: "120-150", budget: 25000.5 },
  empty: null,
};

// A corpus across JSONata's features, including ones that fail at runtime.
const corpus = [
  "name",
  "contacts.email",
  "contacts[role='primary'].email",
  "contacts[age > 32]",
  "$count(contacts)",
  "$sum(contacts.age) / $count(contacts)",
  "{ 'first': $substringBefore(name, ' '), 'n': id * 2 }",
  "contacts.{ 'who': role, 'mail': $uppercase(email) }",
  "$map(tags, function($t, $i) { $i & ':' & $t })",
  "event.date ? event.date : 'tbc'",
  "$string(event.budget)",
  "$exists(missing)",
  "missing.deeper",
  "empty",
  "contacts^(>age).role",
  "$reduce([1..5], function($a, $b) { $a + $b })",
  "$sort(contacts, function($a, $b) { $a.age < $b.age })[0].email",
  "$split(event.guests, '-')",
  "$number('nope')",
  "name + 1",
  "$undefinedFunction(1)",
  "[1,2,3][$ > 1]",
  "$lookup(event, 'guests')",
  "($x := 5; $x * $x)",
  "contacts#$i[$i = 1].email",
  "$formatNumber(event.budget, '#,##0.00')",
];

async function outcome(
  f: () => Promise<unknown>,
): Promise<{ ok: unknown } | { error: { code: unknown; position: unknown; message: unknown } }> {
  try {
    return { ok: JSON.parse(JSON.stringify((await f()) ?? null)) };
  } catch (err) {
    const e = err as { code?: unknown; position?: unknown; message?: unknown };
    return { error: { code: e.code, position: e.position, message: e.message } };
  }
}

describe("JSONata semantics", () => {
  it.each(corpus)("returns what jsonata returns, or the same error: %s", async (expression) => {
    const raw = await outcome(() => jsonata(expression).evaluate(input) as Promise<unknown>);
    const ours = await outcome(() => compileMapping(expression).evaluateRaw(input));
    expect(ours).toEqual(raw);
  });

  it("reports a syntax error with its position, line and column", () => {
    const expression = '{\n  "a": name,\n  "b": contacts[role = \n}';
    let error: unknown;
    try {
      compileMapping(expression);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MappingSyntaxError);
    const e = error as MappingSyntaxError;
    expect(e.jsonata.position).toBeGreaterThan(0);
    expect(e.line).toBe(4);
    expect(e.message).toMatch(/^Syntax error at line 4, column \d+ \(character \d+\): /);
  });

  it("compiles once per expression (cache)", () => {
    expect(compileMapping("name & '!'")).toBe(compileMapping("name & '!'"));
  });
});

describe("guards", () => {
  it("stops an endless recursion within the time limit with a clear error", async () => {
    const started = Date.now();
    const run = runMapping(
      compileMapping("($loop := function($n) { $loop($n + 1) }; $loop(0))", { ...DEFAULT_GUARDS, timeoutMs: 200 }),
      {},
    );
    await expect(run).rejects.toBeInstanceOf(MappingEvaluationError);
    await expect(run).rejects.toThrow(/ran longer than its time limit/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops a deep non-tail recursion with a depth error", async () => {
    const run = runMapping(
      compileMapping("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))", { ...DEFAULT_GUARDS, maxDepth: 100 }),
      {},
    );
    await expect(run).rejects.toThrow(/recursed too deeply/);
  });

  it("stops a huge sequence", async () => {
    const run = runMapping(compileMapping("$count([1..5000].($ * 2))", { ...DEFAULT_GUARDS, maxSequence: 1000 }), {});
    await expect(run).rejects.toThrow(/sequence larger than allowed/);
  });
});

describe("output validation", () => {
  it("names a missing required field and an invalid one", async () => {
    const { errors } = await runMapping(
      compileMapping("{ 'externalId': $string(id), 'source': 'tave', 'partner1Email': 'not-an-email' }"),
      input,
      "wedsync-client",
    );
    expect(errors).toEqual({
      partner1Name: ["is required but the mapping produced nothing for it"],
      partner1Email: ["must be an email address like name@example.com"],
    });
  });

  it("flags fields the target does not have", async () => {
    const { errors } = await runMapping(compileMapping("{ 'guestCount': 10, 'colour': 'blue' }"), {}, "core-fields");
    expect(errors).toEqual({ colour: ["is not a field of this target"] });
  });
});

describe("wedding functions", () => {
  it("builds wedding date-times in the wedding's time zone, across DST", () => {
    expect(weddingDateTime("2027-06-12", "14:00", "Europe/London")).toBe("2027-06-12T14:00:00+01:00");
    expect(weddingDateTime("2027-01-12", "14:00", "Europe/London")).toBe("2027-01-12T14:00:00+00:00");
    expect(weddingDateTime("2027-06-12", "18:30", "America/Los_Angeles")).toBe("2027-06-12T18:30:00-07:00");
    expect(weddingDateTime("2027-06-12", "10:00", "Asia/Kolkata")).toBe("2027-06-12T10:00:00+05:30");
    expect(weddingDateTime("June 12", "10:00", "UTC")).toBeUndefined();
  });

  it("reads dates in ISO, US and instant forms", () => {
    expect(isoDate("2027-06-12")).toBe("2027-06-12");
    expect(isoDate("6/12/2027")).toBe("2027-06-12");
    expect(isoDate("2/30/2027")).toBeUndefined();
    expect(isoDate("2027-06-12T23:30:00Z", "Europe/London")).toBe("2027-06-13");
    expect(isoDate(Date.UTC(2027, 5, 12, 12))).toBe("2027-06-12");
    expect(isoDate("next Saturday")).toBeUndefined();
  });

  it("normalises phone numbers to E.164", () => {
    expect(e164("(415) 555-2671", "US")).toBe("+14155552671");
    expect(e164("020 7946 0958", "GB")).toBe("+442079460958");
    expect(e164("+44 20 7946 0958")).toBe("+442079460958");
    expect(e164("12")).toBeUndefined();
  });

  it("splits and joins names, and reads guest counts", () => {
    expect(splitName("Ana María López")).toEqual({ first: "Ana María", last: "López" });
    expect(splitName("Cher")).toEqual({ first: "Cher" });
    expect(joinName(" Ana ", "López")).toBe("Ana López");
    expect(joinName(undefined, "López")).toBe("López");
    expect(guestCount("120-150")).toBe(150);
    expect(guestCount("about 80")).toBe(80);
    expect(guestCount(95)).toBe(95);
    expect(guestRange("120 - 150")).toEqual({ min: 120, max: 150 });
    expect(guestCount("tbc")).toBeUndefined();
  });

  it("are callable from expressions", async () => {
    const { output } = await runMapping(
      compileMapping(
        "{ 'n': $joinName(c.first, c.last), 'p': $e164(c.phone, 'US'), 'g': $guestCount(c.guests), 'd': $isoDate(c.date) }",
      ),
      { c: { first: "Ana", last: "López", phone: "415-555-2671", guests: "100-120", date: "6/12/2027" } },
    );
    expect(output).toEqual({ n: "Ana López", p: "+14155552671", g: 120, d: "2027-06-12" });
  });
});

describe("graph <-> expression", () => {
  it("draws an object constructor as edges, nested targets as dotted paths, and writes it back", () => {
    const expression = `{
  "summary": "Wedding: " & couple.name,
  "start": { "dateTime": $weddingDateTime(date, time, tz), "timeZone": tz },
  /* a comment */
  "guests": $guestCount(guests) ? $guestCount(guests) : 0
}`;
    const view = expressionToGraph(expression);
    expect(view.kind).toBe("graph");
    if (view.kind !== "graph") return;
    expect(view.edges.map((e) => [e.target, e.expression, e.sources])).toEqual([
      ["summary", '"Wedding: " & couple.name', ["couple.name"]],
      ["start.dateTime", "$weddingDateTime(date, time, tz)", ["date", "time", "tz"]],
      ["start.timeZone", "tz", ["tz"]],
      ["guests", "$guestCount(guests) ? $guestCount(guests) : 0", ["guests"]],
    ]);
    const back = graphToExpression(view.edges);
    const again = expressionToGraph(back);
    expect(again).toEqual(view);
  });

  it("says an expression is text-only instead of losing it", () => {
    expect(expressionToGraph("($x := name; { 'a': $x })")).toMatchObject({ kind: "text-only" });
    expect(expressionToGraph("contacts.email")).toMatchObject({ kind: "text-only" });
    expect(expressionToGraph("{ 'a': 1 } ~> $merge")).toMatchObject({ kind: "text-only" });
    expect(expressionToGraph("{ 'a': ")).toMatchObject({
      kind: "text-only",
      reason: expect.stringContaining("does not compile"),
    });
  });

  it("lists the source paths an expression reads", () => {
    expect(sourcePaths("$joinName(primary.first, primary.last) & ' ' & $string(id)")).toEqual([
      "id",
      "primary.first",
      "primary.last",
    ]);
  });
});

describe("source field inference", () => {
  it("walks nested objects and arrays from sample payloads", () => {
    const fields = inferSourceFields([
      { id: 1, contact: { email: "a@b.c" }, items: [{ sku: "x", qty: 2 }] },
      { id: 2, extra: true },
    ]);
    expect(fields.map((f) => [f.path, f.type, f.inArray])).toEqual([
      ["contact", "object", false],
      ["contact.email", "string", false],
      ["extra", "boolean", false],
      ["id", "number", false],
      ["items", "array", false],
      ["items.qty", "number", true],
      ["items.sku", "string", true],
    ]);
  });
});
