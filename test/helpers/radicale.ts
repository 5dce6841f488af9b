// Radicale, a real CalDAV server (Debian package `radicale`), for CalDAV tests.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { freePort, waitFor } from "./processes";

export interface Radicale {
  url: string;
  stop(): Promise<void>;
}

export const RADICALE_BIN = "/usr/bin/radicale";

export async function startRadicale(users: Record<string, string>): Promise<Radicale> {
  if (!fs.existsSync(RADICALE_BIN)) {
    throw new Error(
      "Radicale is not installed: run `apt-get install -y radicale` (npm test does this itself when it can: scripts/ensure-system-deps.sh).",
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-radicale-"));
  const htpasswd = path.join(dir, "users");
  fs.writeFileSync(
    htpasswd,
    Object.entries(users)
      .map(([u, p]) => `${u}:${p}`)
      .join("\n") + "\n",
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    RADICALE_BIN,
    [
      "--server-hosts",
      `127.0.0.1:${port}`,
      "--storage-filesystem-folder",
      path.join(dir, "collections"),
      "--auth-type",
      "htpasswd",
      "--auth-htpasswd-filename",
      htpasswd,
      "--auth-htpasswd-encryption",
      "plain",
      "--rights-type",
      "owner_only",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url).catch(() => null)) !== null, "Radicale to listen", 20_000);
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
