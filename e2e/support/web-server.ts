// Playwright's webServer command: `node --import tsx e2e/support/web-server.ts`.
//
// Starts the real hub (`server.ts`) on a fresh HUB_DATA_DIR and stops it the way
// an operator would: one SIGTERM to the hub process, which then drains and stops
// its embedded PostgreSQL itself.
//
// Why not `rm -rf … && npx tsx server.ts` directly? Playwright signals its whole
// process group on shutdown, and the embedded PostgreSQL would be in that group:
// its backends got SIGTERM while the hub still had pooled connections, and the hub
// died on an unhandled pg "terminating connection due to administrator command"
// (57P01) error. Here the hub runs in its own process group, and whatever of that
// group outlives the hub (a PostgreSQL left behind by a crash) is stopped before
// this wrapper exits, so a run never leaves a database on EMBEDDED_PG_PORT.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const STOP_GRACE_MS = 15_000;
const LEFTOVER_GRACE_MS = 5_000;

const dataDir = process.env.HUB_DATA_DIR;
const dataRoot = path.resolve(".data");
const resolved = dataDir ? path.resolve(dataDir) : "";
if (!dataDir || !resolved.startsWith(dataRoot + path.sep)) {
  console.error(`web-server: HUB_DATA_DIR must be a folder under ${dataRoot} (got "${dataDir ?? ""}")`);
  process.exit(2);
}

// Another run still using these ports would lose its database to the rm below: refuse instead.
const inUse = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
for (const name of ["PORT", "EMBEDDED_PG_PORT"]) {
  const port = Number(process.env[name]);
  if (port && (await inUse(port))) {
    console.error(`web-server: ${name} ${port} is already in use (another e2e run?); not starting the hub`);
    process.exit(1);
  }
}

fs.rmSync(resolved, { recursive: true, force: true });

const hub = spawn(process.execPath, ["--import", "tsx", "server.ts"], { stdio: "inherit", detached: true });
const group = hub.pid;

/** Signals the hub's process group; false when nothing is left in it. */
function signalGroup(signal: NodeJS.Signals | 0): boolean {
  if (!group) return false;
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
function stop(): void {
  if (stopping || hub.exitCode !== null || hub.signalCode !== null) return;
  stopping = true;
  hub.kill("SIGTERM");
  // Last resort: the hub and everything it started (PostgreSQL included).
  setTimeout(() => signalGroup("SIGKILL"), STOP_GRACE_MS).unref();
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, stop);

/** Waits up to `ms` for the hub's process group to empty; true when it did. */
async function groupGone(ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (signalGroup(0)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

hub.on("exit", (code, signal) => {
  void (async () => {
    // Helpers (tsx's esbuild service) leave on their own within moments of the hub.
    if (!(await groupGone(LEFTOVER_GRACE_MS))) {
      // Still there: e.g. a PostgreSQL left by a crashed hub. Fast shutdown, then SIGKILL.
      console.error("web-server: the hub exited and left processes behind; stopping them");
      signalGroup("SIGINT");
      if (!(await groupGone(LEFTOVER_GRACE_MS))) signalGroup("SIGKILL");
    }
    process.exit(code ?? (signal ? 1 : 0));
  })();
});
