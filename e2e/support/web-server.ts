// Playwright's webServer command: `node --import tsx e2e/support/web-server.ts`.
//
// Starts the real hub (`server.ts`) on a fresh data folder and stops it the way
// an operator would: one SIGTERM to the hub process, which then drains and stops
// its embedded PostgreSQL itself.
//
// Why not run `npx tsx server.ts` directly? Playwright signals the whole process
// group on shutdown, and the embedded PostgreSQL is in that group too: its
// backends got SIGTERM before the hub had closed its pools, and the hub died on
// an unhandled pg "terminating connection due to administrator command" error
// (57P01). Running the hub in its own process group avoids that.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const STOP_GRACE_MS = 15_000;

const dataDir = process.env.HUB_DATA_DIR;
const dataRoot = path.resolve(".data");
const resolved = dataDir ? path.resolve(dataDir) : "";
if (!dataDir || !resolved.startsWith(dataRoot + path.sep)) {
  console.error(`web-server: HUB_DATA_DIR must be a folder under ${dataRoot} (got "${dataDir ?? ""}")`);
  process.exit(2);
}
fs.rmSync(resolved, { recursive: true, force: true });

const hub = spawn(process.execPath, ["--import", "tsx", "server.ts"], { stdio: "inherit", detached: true });

let stopping = false;
function stop(): void {
  if (stopping || hub.exitCode !== null || hub.signalCode !== null) return;
  stopping = true;
  hub.kill("SIGTERM");
  // Last resort: the hub and everything it started (PostgreSQL included).
  setTimeout(() => {
    try {
      if (hub.pid) process.kill(-hub.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, STOP_GRACE_MS).unref();
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, stop);

hub.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
