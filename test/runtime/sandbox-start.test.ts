// The newcomer's path: no DATABASE_URL, an empty data folder. The hub starts
// its embedded PostgreSQL, seeds the sandbox, prints the credentials once,
// shuts down cleanly, and keeps its data for the next start.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FormClient } from "../helpers/form-client";
import { freePort, spawnHub, waitFor, type HubProcess } from "../helpers/processes";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-sandbox-start-"));
fs.chmodSync(dataDir, 0o755);
let proc: HubProcess | null = null;

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

describe("sandbox start on an embedded PostgreSQL", () => {
  it("starts, seeds once, signs in with the printed password, stops cleanly on Ctrl+C and restarts with its data", async () => {
    const [port, pgPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: "",
      HUB_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      EMBEDDED_PG_PORT: String(pgPort),
      SANDBOX_SEED: "true",
    };
    const started = Date.now();
    proc = spawnHub([], env, { group: true });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, "sandbox /readyz", 60_000);
    const readyMs = Date.now() - started;
    process.stdout.write(`[sandbox-start] ready in ${readyMs} ms\n`);

    const out = proc.output();
    const staffPassword = /Staff sign-in \(password for all\): (\S+)/.exec(out)?.[1];
    expect(staffPassword).toBeTruthy();
    expect(out).toContain("admin@sandbox.wedsync.test");
    expect(out).toContain("vendor@sandbox.wedsync.test");

    const client = new FormClient(`http://127.0.0.1:${port}`);
    expect((await client.signIn("admin@sandbox.wedsync.test", staffPassword!)).location).toBe("/console");
    const couples = await client.get("/console/couples");
    expect(couples.text).toMatch(/50<!-- --> couple<!-- -->s|50 couples/);

    // Ctrl+C in a terminal: SIGINT to the whole process group. The database must still stop last.
    const code = await proc.stop("SIGINT");
    expect(code, proc.output().slice(-2000)).toBe(0);
    expect(await portOpen(pgPort)).toBe(false);
    expect(proc.output()).toContain('"step":"embedded PostgreSQL","msg":"stopped"');
    expect(proc.output()).not.toContain("terminating connection due to administrator command");

    // Second start: same data, no new credentials printed.
    proc = spawnHub([], env);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, "sandbox restart", 60_000);
    expect(proc.output()).not.toContain("Staff sign-in");
    const again = new FormClient(`http://127.0.0.1:${port}`);
    expect((await again.signIn("admin@sandbox.wedsync.test", staffPassword!)).location).toBe("/console");
    const second = await proc.stop("SIGTERM");
    expect(second, proc.output().slice(-3000)).toBe(0);
    proc = null;
  });
});
