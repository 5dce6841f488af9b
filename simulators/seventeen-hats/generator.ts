// Deterministic 17hats contacts in the shape of mappings/seventeen-hats-contact-to-wedsync-client
// (a modelled payload: 17hats documents no API): snake_case, numeric ids, the
// spouse/partner as spouse_* fields, US M/D/YYYY event dates, guest counts as
// typed, status Lead or Client. Same seed and count → the same contacts.
import { pad2, pick, prng } from "../prng.js";

export type SeventeenHatsContact = Record<string, unknown> & { id: number; updated_at: string };

export interface SeventeenHatsGenerateOptions {
  count: number;
  seed?: number;
  offset?: number;
  /** Indexes whose email has no domain ending ("name@gmail"). */
  malformedEmail?: number[];
  /** Indexes whose event date is typed day-first ("13/05/2027"), which is not a US date. */
  malformedDate?: number[];
}

const FIRST = ["Jessica", "Marcus", "Olivia", "Sam", "Jordan", "Ava", "Ethan", "Maya", "Leo", "Zoe", "Isaac", "Ruby"];
const LAST = ["Nguyen", "Bell", "Hart", "Okoye", "Ellis", "Moreno", "Price", "Lindqvist", "Adeyemi", "Park"];
const VENUES = ["Bridal Veil Lakes", "Cavallo Point", "The Grand Hall", "Mission Inn", ""];
const GUESTS = (r: () => number): string | number | null => {
  const n = 40 + Math.floor(r() * 160);
  const style = r();
  return style < 0.5 ? String(n) : style < 0.7 ? n : style < 0.85 ? `about ${n}` : null;
};

export function generateContact(i: number, seed: number, opts: { malformedEmail?: boolean; malformedDate?: boolean } = {}) {
  const random = prng(seed * 1_000_003 + i + 17);
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const spouse = random() < 0.7;
  const sFirst = pick(random, FIRST);
  const sLast = pick(random, LAST);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  const created = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const area = 200 + Math.floor(random() * 700);
  return {
    id: 4_800_000 + i,
    status: random() < 0.5 ? "Client" : "Lead",
    first_name: first,
    last_name: last,
    email: `${first}.${last}.${i}@${opts.malformedEmail ? "gmail" : "example.com"}`.toLowerCase(),
    phone: random() < 0.8 ? `(${area}) 555-01${pad2(Math.floor(random() * 100))}` : "",
    company: "",
    spouse_first_name: spouse ? sFirst : "",
    spouse_last_name: spouse ? sLast : "",
    spouse_email: spouse ? `${sFirst}.${sLast}.${i}@example.com`.toLowerCase() : null,
    spouse_phone: null,
    event_date: opts.malformedDate ? `13/${month}/2027` : `${month}/${day}/2027`,
    event_location: pick(random, VENUES),
    guest_count: GUESTS(random),
    lead_source: pick(random, ["Instagram", "Google", "The Knot", "Referral"]),
    tags: ["wedding"],
    notes: random() < 0.4 ? `Contact ${i}: prefers email.` : null,
    created_at: created,
    updated_at: created,
  } satisfies SeventeenHatsContact;
}

export function generateContacts(opts: SeventeenHatsGenerateOptions): SeventeenHatsContact[] {
  const seed = opts.seed ?? 1;
  const offset = opts.offset ?? 0;
  const badEmail = new Set(opts.malformedEmail ?? []);
  const badDate = new Set(opts.malformedDate ?? []);
  const out: SeventeenHatsContact[] = [];
  for (let i = offset; i < offset + opts.count; i++)
    out.push(generateContact(i, seed, { malformedEmail: badEmail.has(i), malformedDate: badDate.has(i) }));
  return out;
}
