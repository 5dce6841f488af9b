// Test fixtures over the real database and a real hub process (in-process).
import crypto from "node:crypto";
import type { DestinationStream } from "pino";
import { inProcessConfig, type HubConfig, type Role } from "../../app/config.server";
import { openDatabase, type Database, type DbOrTx } from "../../app/db.server";
import { startHub, type RunningHub } from "../../app/runtime/hub.server";
import { createLogger } from "../../app/log.server";
import { createUser, type User, type UserRole } from "../../app/auth/users.server";
import { systemActor } from "../../app/audit/audit.server";
import { couples, coreFields, suppliers, supplierCouples } from "../../db/schema";

export const testActor = systemActor("test");

/** This test file's own database (test/setup-database.ts clones it from the run's template). */
export function testDatabaseUrl(): string {
  const url = process.env.HUB_TEST_DATABASE_URL;
  if (!url) throw new Error("HUB_TEST_DATABASE_URL is not set: run the tests through vitest (test/setup-database.ts)");
  return url;
}

export function openTestDatabase(): Database {
  return openDatabase(testDatabaseUrl(), { max: 4 });
}

export function testConfig(overrides: Partial<HubConfig> = {}): HubConfig {
  return inProcessConfig(testDatabaseUrl(), overrides);
}

export async function startTestHub(
  opts: { role?: Role; config?: Partial<HubConfig>; logTo?: DestinationStream } = {},
): Promise<RunningHub & { url: string }> {
  const config = testConfig(opts.config);
  const hub = await startHub({
    config,
    role: opts.role ?? "web",
    logger: opts.logTo ? createLogger("debug", opts.logTo) : createLogger(config.logLevel),
  });
  if (!hub.url) throw new Error("test hub has no web server");
  return hub as RunningHub & { url: string };
}

export const unique = (prefix: string) => `${prefix}-${crypto.randomBytes(4).toString("hex")}`;

export async function makeSupplier(db: DbOrTx, name = unique("Supplier")): Promise<{ id: string; name: string }> {
  const [row] = await db.insert(suppliers).values({ name, kind: "photographer" }).returning();
  return { id: row!.id, name: row!.name };
}

export async function makeUser(
  db: DbOrTx,
  role: UserRole,
  supplierId?: string,
): Promise<{ user: User; email: string; password: string }> {
  const email = `${unique(role)}@test.example`;
  const password = `pw-${crypto.randomBytes(8).toString("hex")}`;
  const user = await createUser(db, { email, name: email, role, supplierId, password }, testActor);
  return { user, email, password };
}

export async function makeCouple(db: DbOrTx, supplierIds: string[], fields: Record<string, unknown> = {}): Promise<string> {
  const [couple] = await db
    .insert(couples)
    .values({ displayName: unique("Couple") })
    .returning();
  await db.insert(coreFields).values({ coupleId: couple!.id, version: 1, fields: { guestCount: 100, ...fields } });
  if (supplierIds.length)
    await db.insert(supplierCouples).values(supplierIds.map((supplierId) => ({ supplierId, coupleId: couple!.id })));
  return couple!.id;
}
