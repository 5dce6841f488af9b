// API tokens for specs that call the JSON API the way WedMe or WedSync do:
// created and revoked with the operators' CLI (`npm run hub -- token …`) against
// the hub under test, so the kind, scopes and audit entry are exactly what an
// operator's token would have. A CLI failure (bad kind or scope) throws with its output.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { E2E_DATABASE_URL, E2E_DATA_DIR } from "./env";

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ApiTokenKind = "wedme" | "wedsync" | "supplier" | "ops";

export interface E2eApiToken {
  id: string;
  token: string;
}

async function hubCli(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "cli/hub.ts", ...args], {
      cwd: REPO_ROOT,
      timeout: 60_000,
      env: {
        ...process.env,
        HUB_MODE: "sandbox",
        // The hub's embedded PostgreSQL; secrets (unused here) from its data folder.
        DATABASE_URL: E2E_DATABASE_URL,
        HUB_DATA_DIR: E2E_DATA_DIR,
        HUB_ENCRYPTION_KEYS: "",
        SESSION_SECRET: "",
        LOG_LEVEL: "warn",
      },
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm run hub -- ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** A new API token (`whub_…`) and its id, as `npm run hub -- token create` prints them. */
export async function createApiToken(name: string, kind: ApiTokenKind, scopes: string[]): Promise<E2eApiToken> {
  const out = await hubCli(["token", "create", "--name", name, "--kind", kind, "--scopes", scopes.join(",")]);
  const id = /\(([0-9a-f-]{36})\)/.exec(out)?.[1];
  const token = /Token \(shown once\): (\S+)/.exec(out)?.[1];
  if (!id || !token) throw new Error(`unexpected output of npm run hub -- token create:\n${out}`);
  return { id, token };
}

export async function revokeApiToken(id: string): Promise<void> {
  await hubCli(["token", "revoke", "--id", id]);
}
