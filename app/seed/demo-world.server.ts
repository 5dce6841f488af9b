// The sandbox world a newcomer clicks through: staff accounts, vendors with a
// login, ~20 suppliers of different kinds, ~50 couples with core fields and
// supplier connections. Created once, on the first start of an empty database.
import { sql } from "drizzle-orm";
import type { Tx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { couples, coreFields, coreFieldVersions, events, suppliers, supplierCouples } from "../../db/schema";
import { createUser } from "../auth/users.server";
import { randomToken } from "../crypto/secrets.server";
import { systemActor } from "../audit/audit.server";

export interface SandboxCredentials {
  staff: { email: string; role: string }[];
  staffPassword: string;
  vendors: { email: string; supplier: string }[];
  vendorPassword: string;
}

const SEED_LOCK = 727_002;

const SUPPLIER_KINDS = [
  ["photographer", "Lumen & Lace Photography"],
  ["caterer", "Olive Branch Catering"],
  ["florist", "Petal & Stem Florals"],
  ["venue", "Harrowgate Barn"],
  ["videographer", "Reel Romance Films"],
  ["planner", "Ever After Planning"],
  ["band", "The Late Bloomers"],
  ["dj", "DJ Nightingale"],
  ["baker", "Sugar Bloom Cakes"],
  ["hair-makeup", "Glow Bridal Studio"],
  ["officiant", "Rev. Anna Whitfield"],
  ["rentals", "Grand Tent & Table Hire"],
  ["transport", "Silver Spoke Carriages"],
  ["stationer", "Inkwell Invitations"],
  ["photographer", "Golden Hour Studio"],
  ["caterer", "Fennel & Fig Kitchen"],
  ["florist", "Wildflower Collective"],
  ["venue", "Lakeside Manor"],
  ["planner", "Something Blue Events"],
  ["band", "Velvet Strings Quartet"],
] as const;

const FIRST_NAMES = [
  "Amelia",
  "Oliver",
  "Isla",
  "Noah",
  "Ava",
  "Leo",
  "Mia",
  "Arthur",
  "Ivy",
  "Theo",
  "Grace",
  "Jack",
  "Freya",
  "Oscar",
  "Emily",
  "Harry",
  "Sophia",
  "Luca",
  "Rosie",
  "Finn",
  "Priya",
  "Mateo",
  "Zara",
  "Kenji",
  "Nadia",
  "Samuel",
  "Chloe",
  "Rafael",
  "Layla",
  "Daniel",
];
const LAST_NAMES = [
  "Hughes",
  "Patel",
  "Okafor",
  "Nguyen",
  "Kowalski",
  "Garcia",
  "Murphy",
  "Schmidt",
  "Rossi",
  "Andersson",
  "Khan",
  "Bennett",
  "Silva",
  "Dubois",
  "Fraser",
  "Ito",
  "Moreau",
  "Walsh",
  "Costa",
  "Reid",
];
const VENUES = [
  ["Harrowgate Barn", "12 Mill Lane, Harrogate HG1 2AB, UK"],
  ["Lakeside Manor", "1 Shore Road, Windermere LA23 1AA, UK"],
  ["The Old Library", "44 High Street, Bath BA1 5AW, UK"],
  ["Rosewood Gardens", "900 Garden Way, Austin, TX 78701, USA"],
  ["Cliffside Chapel", "7 Ocean Drive, Monterey, CA 93940, USA"],
  ["Villa Serena", "Via Roma 18, 50123 Firenze, Italy"],
];
const TIMEZONES = ["Europe/London", "Europe/London", "America/Chicago", "America/Los_Angeles", "Europe/Rome", "Australia/Sydney"];
const STYLES = ["rustic", "classic", "boho", "modern", "garden", "black-tie"];

/** Small deterministic PRNG so every sandbox looks the same. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns credentials when it created the world, null when the database already had users. */
export async function seedSandbox(ctx: HubContext): Promise<SandboxCredentials | null> {
  return ctx.db.transaction(async (tx) => {
    // Several processes may start together: one seeds, the others see users and skip.
    await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK})`);
    const existing = await tx.execute<{ n: number }>(sql`select count(*)::int as n from users`);
    if ((existing.rows[0]?.n ?? 0) > 0) return null;
    return createWorld(tx, {
      staffPassword: ctx.config.sandboxAdminPassword ?? randomToken(12),
      vendorPassword: ctx.config.sandboxVendorPassword ?? randomToken(12),
    });
  });
}

export async function createWorld(tx: Tx, pw: { staffPassword: string; vendorPassword: string }): Promise<SandboxCredentials> {
  const actor = systemActor("sandbox seed");
  const rand = prng(20261126);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  const supplierRows = await tx
    .insert(suppliers)
    .values(
      SUPPLIER_KINDS.map(([kind, name]) => ({
        name,
        kind,
        email: `hello@${name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/^-|-$/g, "")}.example`,
        timezone: "Europe/London",
        settings: { arrivalOffsetMinutes: kind === "venue" ? -240 : kind === "caterer" ? -180 : -90 },
      })),
    )
    .returning();

  const staff = [
    { email: "admin@sandbox.wedsync.test", name: "Sandbox Admin", role: "admin" as const },
    { email: "integration@sandbox.wedsync.test", name: "Ines Integration", role: "integration" as const },
    { email: "ops@sandbox.wedsync.test", name: "Omar Ops", role: "ops" as const },
  ];
  for (const s of staff) await createUser(tx, { ...s, password: pw.staffPassword }, actor);

  const vendors = [
    { email: "vendor@sandbox.wedsync.test", name: "Lena (Lumen & Lace)", supplier: supplierRows[0]! },
    { email: "vendor2@sandbox.wedsync.test", name: "Chris (Olive Branch)", supplier: supplierRows[1]! },
  ];
  for (const v of vendors) {
    await createUser(
      tx,
      { email: v.email, name: v.name, role: "vendor", supplierId: v.supplier.id, password: pw.vendorPassword },
      actor,
    );
  }

  const today = new Date();
  for (let i = 0; i < 50; i++) {
    const p1 = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
    const p2 = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
    const [venueName, venueAddress] = pick(VENUES)!;
    // Weddings spread over the next 18 months; a few within days, for wedding-day mode.
    const daysAhead = i < 3 ? i + 1 : Math.floor(rand() * 540) + 7;
    const date = new Date(today.getTime() + daysAhead * 86_400_000).toISOString().slice(0, 10);
    const guestCount = 40 + Math.floor(rand() * 200);
    const fields: Record<string, unknown> = {
      partner1Name: p1,
      partner1Email: `${p1.toLowerCase().replace(/[^a-z]+/g, ".")}@example.com`,
      partner1Phone: `+4477009${String(100000 + i * 37).slice(-6)}`,
      partner2Name: p2,
      partner2Email: `${p2.toLowerCase().replace(/[^a-z]+/g, ".")}@example.com`,
      weddingDate: date,
      timezone: pick(TIMEZONES),
      ceremonyTime: pick(["12:00", "13:30", "14:00", "15:00", "16:30"]),
      receptionTime: pick(["17:00", "18:00", "18:30", "19:00"]),
      venueName,
      venueAddress,
      guestCount,
      budget: 8000 + Math.floor(rand() * 40) * 1000,
      style: pick(STYLES),
      dietaryVegetarian: Math.floor(guestCount * 0.1),
      dietaryVegan: Math.floor(guestCount * 0.04),
      dietaryGlutenFree: Math.floor(guestCount * 0.03),
    };
    const [couple] = await tx
      .insert(couples)
      .values({ displayName: `${p1.split(" ")[0]} & ${p2.split(" ")[0]}` })
      .returning();
    const diff = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { old: null, new: v }]));
    await tx.insert(coreFields).values({ coupleId: couple!.id, version: 1, fields, lastSeq: 1 });
    await tx
      .insert(coreFieldVersions)
      .values({ coupleId: couple!.id, version: 1, fields, diff, source: "import", actor: "sandbox seed" });
    await tx.insert(events).values({
      coupleId: couple!.id,
      seq: 1,
      type: "core_fields.created",
      changedFields: diff,
      version: 1,
      source: "import",
      actor: "sandbox seed",
    });
    // Each couple books 3–6 suppliers; the two vendor logins get plenty of couples.
    const booked = new Set<number>([i % 2]);
    const n = 2 + Math.floor(rand() * 4);
    while (booked.size < n + 1) booked.add(Math.floor(rand() * supplierRows.length));
    await tx
      .insert(supplierCouples)
      .values([...booked].map((idx) => ({ supplierId: supplierRows[idx]!.id, coupleId: couple!.id })));
  }

  return {
    staff: staff.map((s) => ({ email: s.email, role: s.role })),
    staffPassword: pw.staffPassword,
    vendors: vendors.map((v) => ({ email: v.email, supplier: v.supplier.name })),
    vendorPassword: pw.vendorPassword,
  };
}
