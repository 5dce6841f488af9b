// Start real hub processes (`tsx server.ts --role=...`) against the test database.
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../global-setup";

export interface HubProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `group: true` runs the hub in its own process group and signals the whole
 * group on stop, as a terminal does on Ctrl+C.
 */
export function spawnHub(args: string[], env: Record<string, string>, opts: { group?: boolean } = {}): HubProcess {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", "server.ts", ...args], {
    env: { ...process.env, LOG_LEVEL: "info", SANDBOX_SEED: "false", SIMULATORS: "false", CRON: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.group ?? false,
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) {
        if (opts.group && child.pid) process.kill(-child.pid, signal);
        else child.kill(signal);
      }
      return exited;
    },
  };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export { freePort };
