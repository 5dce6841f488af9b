// Entry point: `npm start` (everything), `npm run web`, `npm run worker`.
// With DATABASE_URL unset, an embedded PostgreSQL starts first and stops last.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Role } from "./app/config.server";
import { createLogger } from "./app/log.server";
import { startHub } from "./app/runtime/hub.server";
import type { SandboxCredentials } from "./app/seed/demo-world.server";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: "string", default: "all" } } });
  const role = values.role as Role;
  if (!["all", "web", "worker"].includes(role)) {
    console.error(`--role must be all, web or worker (got "${values.role}")`);
    process.exit(2);
  }

  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      console.error("See .env.example for every variable and its meaning.");
      process.exit(1);
    }
    throw err;
  }

  const log = createLogger(config.logLevel);
  const hub = await startHub({ config, role, logger: log });
  if (hub.sandboxCredentials) printSandboxBanner(hub.sandboxCredentials, hub.url);
  else if (hub.url) log.info(`Hub ready at ${hub.url}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    hub
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

function printSandboxBanner(c: SandboxCredentials, url: string | null): void {
  // Printed once, on the run that created the sandbox; see README for recovering access.
  const lines = [
    "",
    "==================== WedSync Integration Hub sandbox ====================",
    `Console: ${url ?? "(web not running in this process)"}`,
    `Staff sign-in (password for all): ${c.staffPassword}`,
    ...c.staff.map((s) => `  ${s.email}  (${s.role})`),
    `Vendor sign-in (password for all): ${c.vendorPassword}`,
    ...c.vendors.map((v) => `  ${v.email}  (${v.supplier})`),
    "These passwords are shown only now. Lost them? npm run hub -- user password --email <email>",
    "=========================================================================",
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
