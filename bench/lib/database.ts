// A throwaway PostgreSQL database for one bench run: a fresh database on the
// server DATABASE_URL names, or else on an embedded PostgreSQL started in a
// temporary folder on a free port. `drop()` removes everything it created.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../app/runtime/embedded-postgres.server";
import { freePort } from "./net";

export interface BenchDatabase {
  /** Connection string of the fresh database. */
  url: string;
  name: string;
  /** Where it lives, for the report. */
  where: "DATABASE_URL" | "embedded PostgreSQL";
  /** Drop the database; stop the embedded server and delete its folder. Throws after trying every step. */
  drop(): Promise<void>;
}

export async function createBenchDatabase(opts: { prefix?: string; log?: (line: string) => void } = {}): Promise<BenchDatabase> {
  const name = `${opts.prefix ?? "hub_bench"}_${Date.now()}_${process.pid}`;
  const steps: { what: string; fn: () => Promise<void> }[] = [];
  const undo = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const { what, fn } of steps.reverse()) {
      try {
        await fn();
      } catch (err) {
        failures.push(new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    steps.length = 0;
    if (failures.length) throw new AggregateError(failures, "bench database cleanup failed");
  };

  try {
    let serverUrl = process.env.DATABASE_URL;
    let where: BenchDatabase["where"] = "DATABASE_URL";
    if (!serverUrl) {
      where = "embedded PostgreSQL";
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-bench-pg-"));
      steps.push({ what: "remove the temporary folder", fn: async () => fs.rmSync(dir, { recursive: true, force: true }) });
      // As root, PostgreSQL runs as a separate system user that must reach the folder.
      if (os.userInfo().uid === 0) fs.chmodSync(dir, 0o755);
      const embedded = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), database: "postgres", log: opts.log });
      steps.push({ what: "stop the embedded PostgreSQL", fn: () => embedded.stop() });
      serverUrl = embedded.url;
    }

    await withClient(serverUrl, (c) => c.query(`create database "${name}"`));
    const server = serverUrl;
    steps.push({
      what: `drop database ${name}`,
      fn: async () => {
        await withClient(server, (c) => c.query(`drop database if exists "${name}" with (force)`));
      },
    });

    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), name, where, drop: undo };
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
}

async function withClient<T>(connectionString: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
