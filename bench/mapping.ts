// npm run bench:mapping — 100,000 Tave-like client records through the mapping
// engine (guards, wedding functions, output validation) and, in the same run,
// through bare jsonata with the same expression precompiled (functions
// registered, no guards, no validation). Prints records/s for both and the
// engine's overhead; the LAST line is one JSON object.
import jsonata from "jsonata";
import { compileMapping, runMapping } from "../app/mapping/engine";
import { WEDDING_FUNCTIONS } from "../app/mapping/functions";
import { readMappingFiles } from "../app/mapping/files.server";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const ROUNDS = 3;
const SLUG = "tave-client-to-wedsync-client";

const mapping = readMappingFiles().find((m) => m.slug === SLUG);
if (!mapping) throw new Error(`mappings/${SLUG} not found`);
const sample = mapping.cases.find((c) => c.expected !== undefined)?.input as Record<string, unknown> | undefined;
if (!sample) throw new Error(`${SLUG} has no case with an expected output to use as a template`);

const FIRST = ["Maya", "Jordan", "Priya", "Luca", "Amara", "Noah", "Sofia", "Kenji", "Ava", "Mateo"];
const LAST = ["Rivera", "Okafor", "Patel", "Rossi", "Nguyen", "Smith", "Garcia", "Tanaka", "Brown", "Silva"];

/** Vary ids, names, emails, dates and counts so no two records are alike. */
function makeRecords(n: number): unknown[] {
  const template = JSON.stringify(sample);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const r = JSON.parse(template) as Record<string, unknown> & { contacts?: { contact?: Record<string, unknown> }[] };
    r.id = `job${String(i).padStart(8, "0")}`;
    r.guestCount = 40 + (i % 200);
    r.eventDate = `2027-${String((i % 12) + 1).padStart(2, "0")}-${String((i % 28) + 1).padStart(2, "0")}`;
    for (const [k, c] of (r.contacts ?? []).entries()) {
      if (c.contact?.kind !== "person") continue;
      const first = FIRST[(i + k) % FIRST.length]!;
      const last = LAST[(i * 7 + k) % LAST.length]!;
      Object.assign(c.contact, {
        firstName: first,
        lastName: last,
        name: `${first} ${last}`,
        email: `${first}.${last}.${i}@example.com`.toLowerCase(),
      });
    }
    out.push(r);
  }
  return out;
}

async function timeIt(label: string, records: unknown[], fn: (r: unknown) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (const r of records) await fn(r);
  const seconds = (performance.now() - started) / 1000;
  const rate = records.length / seconds;
  console.log(`  ${label.padEnd(8)} ${records.length} records in ${seconds.toFixed(2)} s = ${Math.round(rate)} records/s`);
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const records = makeRecords(RECORDS);
  const engine = compileMapping(mapping!.expression);
  const raw = jsonata(mapping!.expression);
  for (const [name, [fn, signature]] of Object.entries(WEDDING_FUNCTIONS))
    raw.registerFunction(name, fn as (...a: unknown[]) => unknown, signature);

  // Both paths must agree on every record before their speed means anything.
  let invalid = 0;
  for (const r of records.slice(0, 1000)) {
    const ours = await runMapping(engine, r, mapping!.target);
    const theirs = JSON.parse(JSON.stringify(await raw.evaluate(r))) as unknown;
    if (JSON.stringify(ours.output) !== JSON.stringify(theirs)) throw new Error("engine and bare jsonata disagree");
    if (ours.errors) invalid++;
  }
  console.log(
    `mapping bench: ${RECORDS} records, mapping ${SLUG}; first 1000 agree between engine and jsonata (${invalid} invalid)`,
  );

  const warm = records.slice(0, 2000);
  await timeIt("warm-up", warm, (r) => raw.evaluate(r));
  await timeIt("warm-up", warm, (r) => runMapping(engine, r, mapping!.target));

  const rawRates: number[] = [];
  const engineRates: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}`);
    rawRates.push(await timeIt("jsonata", records, (r) => raw.evaluate(r)));
    engineRates.push(await timeIt("engine", records, (r) => runMapping(engine, r, mapping!.target)));
  }
  const rawRate = median(rawRates);
  const engineRate = median(engineRates);
  const overhead = (rawRate / engineRate - 1) * 100;
  console.log(
    `median: engine ${Math.round(engineRate)} records/s, bare jsonata ${Math.round(rawRate)} records/s, overhead ${overhead.toFixed(1)}%`,
  );
  console.log(
    JSON.stringify({
      bench: "mapping",
      records: RECORDS,
      records_per_s: Math.round(engineRate),
      raw_records_per_s: Math.round(rawRate),
      overhead_pct: Math.round(overhead * 10) / 10,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
