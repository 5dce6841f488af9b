// Deterministic HoneyBook projects, shaped as mappings/honeybook-project-to-wedsync-client
// shows them (the project details of GET /api/v2/events/{id}/details plus the list's
// `is_booked`): Mongo-style 24-hex `_id`s, `event_*` fields, participants in
// `event_users` (the vendor, one or two clients, a client sometimes listed twice),
// empty strings for unset values. Same seed and count → the same records.
import { pad2, pick, prng } from "../prng.js";

export type HoneyBookProject = Record<string, unknown> & { _id: string; is_booked: boolean; event_name: string };

export interface HoneyBookGenerateOptions {
  count: number;
  seed?: number;
  offset?: number;
  /** Indexes whose first client email has a space in it ("first last@gmail.com"). */
  malformedEmail?: number[];
  /** Indexes whose event date does not exist ("2027-02-30"). */
  malformedDate?: number[];
}

const FIRST = ["Meredith", "Chris", "Hannah", "Joe", "Sofia", "Amir", "Grace", "Luis", "Nia", "Owen", "Priya", "Theo"];
const LAST = ["Hall", "Delgado", "Brooks", "Martínez", "Khan", "Okafor", "Reyes", "Walsh", "Sato", "Ferreira"];
const VENUES: readonly (readonly [string, string])[] = [
  ["The Ritz-Carlton, Charlotte", "201 E Trade St, Charlotte, NC 28202"],
  ["Chapel Dulcinea", "11101 Crumley Ranch Rd, Austin, TX 78738"],
  ["Devils Thumb Ranch", "Tabernash, CO"],
  ["The Foundry", "42-38 9th St, Long Island City, NY 11101"],
];
const ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"];
const PACKAGES = ["Full Planning & Design", "Partial Planning", "Day-of Coordination", null];
const BASE_S = Math.floor(Date.UTC(2026, 0, 1) / 1000);

const hex = (random: () => number, n: number) => {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
  return s;
};
/** An ObjectId: 8 hex of seconds, then 16 more, so ids sort in creation order. */
const objectId = (seconds: number, random: () => number) => seconds.toString(16).padStart(8, "0") + hex(random, 16);

function client(i: number, random: () => number, malformedEmail: boolean) {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  // Emails are ASCII even when names are not ("Martínez" → "martinez").
  const ascii = (v: string) => v.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  const local = ascii(malformedEmail ? `${first} ${last}` : `${first}.${last}.${i}`).toLowerCase();
  const area = 200 + Math.floor(random() * 700);
  return {
    _id: objectId(BASE_S + i * 60 + 1, random),
    first_name: first,
    last_name: last,
    full_name: `${first} ${last}`,
    email: `${local}@gmail.com`,
    phone_number: random() < 0.8 ? `(${area}) 555-01${pad2(Math.floor(random() * 100))}` : "",
    system_user_type: "client",
    user_type: "client",
    job_title: "",
  };
}

export function generateProject(i: number, seed: number, opts: { malformedEmail?: boolean; malformedDate?: boolean } = {}) {
  const random = prng(seed * 1_000_003 + i + 7);
  const id = objectId(BASE_S + i * 60, random);
  const [venue, address] = pick(random, VENUES);
  const venueInName = random() < 0.7;
  const p1 = client(i, random, opts.malformedEmail ?? false);
  const users: Record<string, unknown>[] = [
    {
      _id: "65f0a1b2c3d4e5f601234567",
      full_name: "Ivy Honeycutt",
      email: "ivy@silkveilevents.com",
      system_user_type: "vendor",
      user_type: "event_planner",
    },
    p1,
  ];
  // HoneyBook sometimes lists one participant twice (observed by honeybook-mcp).
  if (random() < 0.3) users.push({ ...p1, phone_number: "" });
  if (random() < 0.7) users.push(client(i + 100_000, random, false));
  const pkg = pick(random, PACKAGES);
  const guests =
    random() < 0.2 ? `${80 + Math.floor(random() * 40)}-${130 + Math.floor(random() * 40)}` : 40 + Math.floor(random() * 180);
  const created = new Date((BASE_S + i * 60) * 1000).toISOString();
  return {
    _id: id,
    event_name: `${p1.first_name} ${p1.last_name} Wedding`,
    event_type: "Wedding",
    project_type: "Wedding",
    event_date: opts.malformedDate
      ? "2027-02-30"
      : `2027-${pad2(1 + Math.floor(random() * 12))}-${pad2(1 + Math.floor(random() * 28))}`,
    event_end_date: null,
    event_timezone_iana: pick(random, ZONES),
    event_location: `${venue}, ${address}`,
    venue_name: venueInName ? venue : "",
    event_guests: guests,
    event_details: random() < 0.5 ? `Enquiry ${i}: ceremony and reception on site.` : "",
    is_booked: random() < 0.6,
    created_at: created,
    custom_project_fields_v2: [{ name: "Type of Package", label: "Type of Package", type: "text", order: 1, value: pkg }],
    event_users: users,
  } satisfies HoneyBookProject;
}

export function generateProjects(opts: HoneyBookGenerateOptions): HoneyBookProject[] {
  const seed = opts.seed ?? 1;
  const offset = opts.offset ?? 0;
  const badEmail = new Set(opts.malformedEmail ?? []);
  const badDate = new Set(opts.malformedDate ?? []);
  const out: HoneyBookProject[] = [];
  for (let i = offset; i < offset + opts.count; i++)
    out.push(generateProject(i, seed, { malformedEmail: badEmail.has(i), malformedDate: badDate.has(i) }));
  return out;
}
