// Operators' command line: `npm run hub -- <command> [options]`.
// Commands stay thin: parse flags, call the same domain functions the console uses.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type HubConfig } from "../app/config.server";
import { withDatabase } from "../app/runtime/connect.server";
import { createUser, setPassword } from "../app/auth/users.server";
import { createApiToken, revokeApiToken, API_SCOPES } from "../app/auth/api-tokens.server";
import { seedSandbox } from "../app/seed/demo-world.server";
import { systemActor } from "../app/audit/audit.server";
import { randomToken } from "../app/crypto/secrets.server";
import { DomainError, ValidationError } from "../app/errors";
import { createLogger } from "../app/log.server";
import { createVault } from "../app/crypto/secrets.server";
import { createHubCookies } from "../app/auth/cookies.server";
import type { HubContext } from "../app/runtime/context.server";
import { exportMappings, importMappingFiles } from "../app/mapping/store.server";
import { defaultMappingsDir, readMappingFiles, writeMappingFolder } from "../app/mapping/files.server";
import { runCase } from "../app/mapping/cases";

const HELP = `WedSync Integration Hub CLI

Usage: npm run hub -- <command> [options]

Commands:
  migrate                         Apply database migrations (drizzle + graphile-worker).
  seed                            Create the sandbox world if the database has no users yet.
  user create --email E --name N --role R [--supplier ID] [--password P]
                                  Create a user. Roles: admin, integration, ops, vendor (vendor needs --supplier).
                                  Without --password one is generated and printed once.
  user password --email E [--password P]
                                  Set a new password (generated when omitted) and sign the user out everywhere.
  token create --name N --kind K --scopes S1,S2 [--supplier ID]
                                  Create an API token, printed once. Kinds: wedme, wedsync, supplier, ops.
                                  Scopes: ${API_SCOPES.join(", ")}.
  token revoke --id ID            Revoke an API token.
  config check                    Validate the environment and print the effective configuration.
  mappings import [--dir D]       Publish the mapping files (default mappings/) whose text differs from the active version.
  mappings export [--dir D]       Write each mapping's active version to files (default mappings/), for review in git.
  mappings test [--dir D]         Run every mapping file's cases; exit 1 when one fails.

The database is DATABASE_URL, or the embedded PostgreSQL in HUB_DATA_DIR (reused if the hub is running).
`;

const actor = systemActor("cli");

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      email: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      supplier: { type: "string" },
      password: { type: "string" },
      kind: { type: "string" },
      scopes: { type: "string" },
      id: { type: "string" },
      dir: { type: "string" },
    },
  });
  const [cmd, sub] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(HELP);
    return cmd || values.help ? 0 : 2;
  }

  const config = loadConfig();
  const command = sub ? `${cmd} ${sub}` : cmd;
  switch (command) {
    case "config check":
      process.stdout.write(describeConfig(config));
      return 0;
    case "migrate":
      await withDatabase(config, async () => undefined);
      process.stdout.write("Migrations applied.\n");
      return 0;
    case "seed":
      return withDatabase(config, async (database, url) => {
        const creds = await seedSandbox(cliContext(config, database, url));
        if (!creds) process.stdout.write("The database already has users; nothing seeded.\n");
        else
          process.stdout.write(
            `Sandbox created. Staff password: ${creds.staffPassword}  Vendor password: ${creds.vendorPassword}\n`,
          );
        return 0;
      });
    case "user create":
      return withDatabase(config, async ({ db }) => {
        const password = values.password ?? randomToken(12);
        const user = await createUser(
          db,
          {
            email: values.email ?? "",
            name: values.name ?? values.email ?? "",
            role: values.role as "admin",
            supplierId: values.supplier,
            password,
          },
          actor,
        );
        process.stdout.write(`Created ${user.role} ${user.email} (${user.id}).\n`);
        if (!values.password) process.stdout.write(`Password (shown once): ${password}\n`);
        return 0;
      });
    case "user password":
      return withDatabase(config, async ({ db }) => {
        const password = values.password ?? randomToken(12);
        const user = await setPassword(db, values.email ?? "", password, actor);
        process.stdout.write(`Password set for ${user.email}; existing sessions signed out.\n`);
        if (!values.password) process.stdout.write(`Password (shown once): ${password}\n`);
        return 0;
      });
    case "token create":
      return withDatabase(config, async ({ db }) => {
        const scopes = (values.scopes ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const { token, principal } = await createApiToken(
          db,
          { name: values.name ?? "", kind: values.kind as "ops", supplierId: values.supplier, scopes: scopes as ["ops"] },
          actor,
        );
        process.stdout.write(
          `Created ${principal.kind} token "${principal.name}" (${principal.tokenId}) with scopes ${principal.scopes.join(", ")}.\n`,
        );
        process.stdout.write(`Token (shown once): ${token}\n`);
        return 0;
      });
    case "token revoke":
      return withDatabase(config, async ({ db }) => {
        await revokeApiToken(db, values.id ?? "", actor);
        process.stdout.write(`Revoked token ${values.id}.\n`);
        return 0;
      });
    case "mappings import":
      return withDatabase(config, async ({ db }) => {
        const c = await importMappingFiles(db, readMappingFiles(values.dir), actor);
        process.stdout.write(`Mappings: ${c.created} created, ${c.published} published, ${c.unchanged} unchanged.\n`);
        return 0;
      });
    case "mappings export":
      return withDatabase(config, async ({ db }) => {
        const files = await exportMappings(db);
        for (const f of files) writeMappingFolder(values.dir ?? defaultMappingsDir(), f);
        process.stdout.write(`Wrote ${files.length} mapping(s) to ${values.dir ?? defaultMappingsDir()}.\n`);
        return 0;
      });
    case "mappings test": {
      let failed = 0;
      for (const f of readMappingFiles(values.dir)) {
        for (const c of f.cases) {
          const r = await runCase(f.expression, f.target, c);
          if (!r.passed) failed++;
          process.stdout.write(`${r.passed ? "ok  " : "FAIL"} ${f.slug} / ${c.name}${r.problem ? `: ${r.problem}` : ""}\n`);
        }
      }
      return failed ? 1 : 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
      return 2;
  }
}

function describeConfig(c: HubConfig): string {
  return [
    "Configuration is valid.",
    `  mode:               ${c.mode}`,
    `  port:               ${c.port} (host ${c.host})`,
    `  database:           ${c.databaseUrl ? redactUrl(c.databaseUrl) : `embedded PostgreSQL on port ${c.embeddedPgPort}`}`,
    `  data folder:        ${c.dataDir}`,
    `  encryption keys:    ${c.encryptionKeys.map((k) => k.id).join(", ")} (first one encrypts)`,
    `  worker concurrency: ${c.workerConcurrency}`,
    `  sandbox seed:       ${c.seedSandbox ? "on" : "off"}`,
    `  simulators:         ${c.simulators ? `on, from port ${c.simulatorBasePort}` : "off"}`,
    `  secure cookies:     ${c.secureCookies ? "on" : "off"}`,
    "",
  ].join("\n");
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable)";
  }
}

function cliContext(config: HubConfig, database: import("../app/db.server").Database, url: string): HubContext {
  return {
    config,
    role: "worker",
    instanceId: `cli:${process.pid}`,
    db: database.db,
    database,
    databaseUrl: url,
    log: createLogger("warn"),
    vault: createVault(config.encryptionKeys),
    cookies: createHubCookies(config.sessionSecret, config.secureCookies),
    status: () => ({ workersRunning: false, startedAt: new Date() }),
    publicUrl: () => config.publicUrl ?? `http://localhost:${config.port}`,
  };
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof ValidationError) {
      process.stderr.write(
        `${err.message}:\n${Object.entries(err.fieldErrors)
          .map(([f, m]) => `  ${f}: ${m.join("; ")}`)
          .join("\n")}\n`,
      );
      process.exit(1);
    }
    if (err instanceof DomainError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    if (
      err instanceof Error &&
      err.name === "TypeError" &&
      "code" in err &&
      String((err as { code: unknown }).code).startsWith("ERR_PARSE_ARGS")
    ) {
      process.stderr.write(`${err.message}\n\n${HELP}`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
