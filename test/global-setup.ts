// One migrated template database per test run, on the server TEST_DATABASE_URL
// names (e.g. the machine's PostgreSQL 15 in CI), or else on an embedded
// PostgreSQL started for the run, so `npm test` needs nothing installed. Each
// test file clones its own database from it (test/setup-database.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../app/runtime/embedded-postgres.server";
import { openDatabase } from "../app/db.server";
import { migrateDatabase } from "../app/runtime/migrate.server";

declare module "vitest" {
  export interface ProvidedContext {
    /** The server holding the run's databases, and the migrated template each test file clones. */
    databaseServerUrl: string;
    databaseTemplate: string;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dbName = `hub_test_${Date.now()}_${process.pid}`;
  let serverUrl = process.env.TEST_DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  let tmpDir: string | null = null;

  if (!serverUrl) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-test-pg-"));
    // As root, PostgreSQL runs as a separate system user that must reach the folder.
    fs.chmodSync(tmpDir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir: tmpDir, port: await freePort(), database: "postgres" });
    serverUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }

  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  await admin.end();

  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const database = openDatabase(databaseUrl, { max: 2 });
  await migrateDatabase(database, databaseUrl);
  await database.close();
  project.provide("databaseServerUrl", serverUrl);
  project.provide("databaseTemplate", dbName);
  process.stdout.write(`[test] database ${dbName} on ${stopEmbedded ? "embedded PostgreSQL" : "TEST_DATABASE_URL"}\n`);

  return async () => {
    const adminEnd = new pg.Client({ connectionString: serverUrl });
    await adminEnd.connect();
    // The template and any file database a crashed file left behind.
    const { rows } = await adminEnd.query<{ datname: string }>(
      "select datname from pg_database where datname = $1 or datname like $2",
      [dbName, `${dbName}_f%`],
    );
    for (const { datname } of rows) await adminEnd.query(`drop database if exists "${datname}" with (force)`);
    await adminEnd.end();
    if (stopEmbedded) await stopEmbedded();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  };
}
