// Applies the committed SQL migrations (drizzle) and graphile-worker's own
// schema. Several processes may start at once against one database, so the
// whole step runs under a PostgreSQL advisory lock.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { runMigrations } from "graphile-worker";
import type { Database } from "../db.server";

const MIGRATION_LOCK = 727_001;

export function migrationsFolder(): string {
  // Works from the source tree (tsx) and from the repository root (cwd).
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, "../../db/migrations");
}

export async function migrateDatabase(database: Database, connectionString: string): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await migrate(database.db, { migrationsFolder: migrationsFolder() });
      await runMigrations({ connectionString, logger: silentLogger });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** Reports whether every committed migration has been applied (for /readyz). */
export async function pendingMigrations(database: Database): Promise<number> {
  const { readMigrationFiles } = await import("drizzle-orm/migrator");
  const files = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  try {
    const res = await database.pool.query<{ hash: string }>("select hash from drizzle.__drizzle_migrations");
    const applied = new Set(res.rows.map((r) => r.hash));
    return files.filter((f) => !applied.has(f.hash)).length;
  } catch {
    return files.length;
  }
}

import { Logger as GraphileLogger } from "graphile-worker";
const silentLogger = new GraphileLogger(() => () => undefined);
