// Opening the hub's database from a one-off process (CLI, scripts): the
// external DATABASE_URL, or the embedded one, reusing a running hub's cluster.
import type { HubConfig } from "../config.server";
import { openDatabase, type Database } from "../db.server";
import { embeddedUrl, reachable, startEmbeddedPostgres } from "./embedded-postgres.server";
import { migrateDatabase } from "./migrate.server";

export async function withDatabase<T>(
  config: HubConfig,
  fn: (database: Database, url: string) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!url) {
    const candidate = embeddedUrl(config.embeddedPgPort);
    if (await reachable(candidate)) url = candidate;
    else {
      const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
      url = embedded.url;
      stopEmbedded = embedded.stop;
    }
  }
  const database = openDatabase(url, { max: 3 });
  try {
    if (opts.migrate !== false) await migrateDatabase(database, url);
    return await fn(database, url);
  } finally {
    await database.close();
    if (stopEmbedded) await stopEmbedded();
  }
}
