// Deterministic Tave clients (API v2 job resources with their client contacts,
// venue location and orders embedded, as mappings/tave-client-to-wedsync-client
// shows them). Same seed and count → the same records, byte for byte, so tests
// and benches can predict what an import must produce.

export type TaveRecord = Record<string, unknown> & { id: string; modified: string };

export interface GenerateOptions {
  count: number;
  seed?: number;
  /** Index of the first record (ids and names continue from there). */
  offset?: number;
  /** Indexes whose first client email is malformed ("name@gmail", no domain ending). */
  malformedEmail?: number[];
  /** Indexes whose event date is not a real date ("2027-02-30"). */
  malformedDate?: number[];
}

const FIRST = ["Maya", "Jordan", "Priya", "Luca", "Amara", "Noah", "Sofia", "Kenji", "Ava", "Mateo", "Grace", "Daniel"];
const LAST = ["Rivera", "Okafor", "Patel", "Rossi", "Nguyen", "Smith", "Garcia", "Tanaka", "Brown", "Silva", "Chen", "Alvarez"];
const VENUES = ["Terrain at Styer's", "The Foundry", "Bartram's Garden", "Cescaphe Ballroom", "Hotel du Village", null];
const STAGES = ["lead", "booked", "fulfillment", "completed"] as const;
const PACKAGES = ["Collection I: 6 hours", "Collection II: 8 hours, two photographers", "Elopement", null];
const DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "example.com"];
const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

// mulberry32, as in simulators/harness.ts: tiny, seedable, reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A lowercase ULID: 10 time characters then 16 random ones, so ids sort in creation order. */
export function ulid(timeMs: number, random: () => number): string {
  let time = "";
  let t = timeMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rest = "";
  for (let i = 0; i < 16; i++) rest += CROCKFORD[Math.floor(random() * 32)]!;
  return time + rest;
}

const pad = (n: number) => String(n).padStart(2, "0");
const BASE_MS = Date.UTC(2026, 0, 1);

function phone(random: () => number): Record<string, unknown> {
  const area = 200 + Math.floor(random() * 700);
  const line = Math.floor(random() * 10000)
    .toString()
    .padStart(4, "0");
  // Tave keeps what the studio typed; e164 is null when it could not parse it.
  const parsed = random() < 0.8;
  return {
    id: null,
    formatted: `(${area}) 555-${line}`,
    e164: parsed ? `+1${area}555${line}` : null,
    extension: null,
    telUri: parsed ? `tel:+1-${area}-555-${line}` : null,
    dialCode: parsed ? 1 : null,
    countryCode: parsed ? "US" : null,
  };
}

function person(i: number, k: number, random: () => number, jobId: string, malformedEmail: boolean) {
  const first = FIRST[Math.floor(random() * FIRST.length)]!;
  const last = LAST[Math.floor(random() * LAST.length)]!;
  const contactId = ulid(BASE_MS + i * 60_000 + k, random);
  const email =
    `${first}.${last}.${i}@${malformedEmail ? "gmail" : DOMAINS[Math.floor(random() * DOMAINS.length)]!}`.toLowerCase();
  return {
    id: ulid(BASE_MS + i * 60_000 + k + 10, random),
    hidden: false,
    client: true,
    contactId,
    jobId,
    jobRoles: [],
    roleKinds: ["client"],
    contact: {
      kind: "person",
      id: contactId,
      firstName: first,
      lastName: last,
      name: `${first} ${last}`,
      email,
      secondaryEmail: null,
      cellPhone: random() < 0.85 ? phone(random) : null,
      homePhone: null,
      workPhone: null,
    },
  };
}

/** One client; `i` is its position in the account (drives its id, so ids sort by i). */
export function generateClient(
  i: number,
  seed: number,
  opts: { malformedEmail?: boolean; malformedDate?: boolean } = {},
): TaveRecord {
  const random = prng(seed * 1_000_003 + i);
  const createdMs = BASE_MS + i * 60_000;
  const id = ulid(createdMs, random);
  const stage = STAGES[Math.floor(random() * STAGES.length)]!;
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  const eventDate = opts.malformedDate ? "2027-02-30" : random() < 0.9 ? `2027-${pad(month)}-${pad(day)}` : null;
  const venue = VENUES[Math.floor(random() * VENUES.length)];
  const pkg = stage === "lead" ? null : PACKAGES[Math.floor(random() * PACKAGES.length)];
  const contacts: Record<string, unknown>[] = [person(i, 1, random, id, opts.malformedEmail ?? false)];
  if (random() < 0.75) contacts.push(person(i, 2, random, id, false));
  if (venue) {
    const venueId = ulid(createdMs + 20, random);
    contacts.push({
      id: ulid(createdMs + 21, random),
      hidden: false,
      client: false,
      contactId: venueId,
      jobId: id,
      jobRoles: [],
      roleKinds: ["vendor"],
      contact: { kind: "location", id: venueId, name: venue, email: null, phone: null, address: null },
    });
  }
  const created = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  const first = (contacts[0] as { contact: { firstName: string; lastName: string } }).contact;
  return {
    links: { self: { href: `https://tave.io/v2/job/${id}` } },
    id,
    created,
    modified: created,
    accountBalance: 0,
    bookingDate: stage === "lead" ? null : created.slice(0, 10),
    brandId: null,
    closed: false,
    closedReasonId: null,
    creditBalance: 0,
    customFields: null,
    eventDate,
    externalMappings: null,
    guestCount: random() < 0.8 ? 40 + Math.floor(random() * 200) : null,
    inquiryDate: created.slice(0, 10),
    jobTypeName: "Wedding",
    leadConfidence: null,
    leadNotes: random() < 0.5 ? `Enquiry ${i}: found us on ${random() < 0.5 ? "The Knot" : "Instagram"}.` : null,
    leadSourceName: "Contact form",
    leadStatusName: stage === "lead" ? "New" : "Booked",
    name: null,
    stage,
    title: `${first.lastName ?? first.firstName} Wedding`,
    webLead: true,
    contacts,
    orders: pkg
      ? [{ id: ulid(createdMs + 30, random), jobId: id, name: pkg, title: pkg, status: "open", total: 380000, balance: 0 }]
      : [],
  };
}

export function generateClients(opts: GenerateOptions): TaveRecord[] {
  const seed = opts.seed ?? 1;
  const offset = opts.offset ?? 0;
  const badEmail = new Set(opts.malformedEmail ?? []);
  const badDate = new Set(opts.malformedDate ?? []);
  const out: TaveRecord[] = [];
  for (let i = offset; i < offset + opts.count; i++)
    out.push(generateClient(i, seed, { malformedEmail: badEmail.has(i), malformedDate: badDate.has(i) }));
  return out;
}
