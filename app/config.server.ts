// The one typed view of the environment. Every variable is parsed here, once,
// so a bad value stops start-up with a message naming the variable.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import os from "node:os";
import { z } from "zod";
import { webhooksOutConfig, type WebhooksOutConfig } from "./webhooks/outbound/config";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], {
    error: 'must be one of "true", "false", "1", "0", "yes", "no"',
  })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const port = z.coerce
  .number({ error: "must be a port number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

/** `kid:base64key,kid2:base64key`: the first key encrypts, all keys decrypt (rotation). */
const encryptionKeysSchema = z.string().transform((raw, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, b64] = part.split(":");
    const key = b64 ? Buffer.from(b64, "base64") : Buffer.alloc(0);
    if (!id || !/^[a-z0-9_-]{1,32}$/i.test(id) || key.length !== 32) {
      ctx.addIssue({
        code: "custom",
        message:
          'must be a comma-separated list of "keyId:base64" entries, each key 32 bytes (generate one with: openssl rand -base64 32)',
      });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: "custom", message: "must name at least one key" });
    return z.NEVER;
  }
  return keys;
});

const envSchema = z.object({
  HUB_MODE: z.enum(["sandbox", "production"], { error: 'must be "sandbox" or "production"' }).default("sandbox"),
  PORT: port.default(3000),
  HUB_PUBLIC_URL: z.url("must be the hub's public base URL, like https://hub.example.com").optional(),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL")
    .optional(),
  HUB_DATA_DIR: z.string().min(1).default(".data"),
  EMBEDDED_PG_PORT: port.default(54329),
  HUB_ENCRYPTION_KEYS: encryptionKeysSchema.optional(),
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  WORKER_CONCURRENCY: z.coerce.number({ error: "must be a number" }).int().min(1).max(100).default(5),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SANDBOX_SEED: bool.default(true),
  SANDBOX_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  SANDBOX_VENDOR_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  SIMULATORS: bool.optional(),
  SIMULATOR_BASE_PORT: port.default(4100),
  SECURE_COOKIES: bool.optional(),
  CRON: bool.optional(),
  METRICS_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  OPS_TICKER: bool.optional(),
  OPS_ALERT_FOR_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).min(0).max(86_400).default(60),
  OPS_ALERT_RECOVER_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).min(0).max(86_400).default(120),
  PROVIDER_API_ROOTS: z
    .string()
    .transform((text, c) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        c.addIssue({ code: "custom", message: 'must be JSON, e.g. {"google-calendar":"https://proxy.example/"}' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), z.url({ protocol: /^https?$/, error: "each value must be an http(s) URL" })))
    .optional(),
  /** Outbound webhooks: plain http:// endpoint URLs (default: sandbox yes, production no). */
  WEBHOOK_ALLOW_HTTP: bool.optional(),
  /** Outbound webhooks: IPs/CIDRs let through the SSRF guard (default: sandbox "127.0.0.1/32,::1/128", production none). */
  WEBHOOK_SSRF_ALLOW: z.string().optional(),
  /** Outbound webhooks: seconds before each attempt (Svix's schedule by default). */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, "must be comma-separated seconds, e.g. 0,5,300")
    .optional(),
  /** Outbound webhooks: multiplies every retry delay and the disable period (tests compress time with e.g. 0.0001). */
  WEBHOOK_TIME_SCALE: z.coerce.number({ error: "must be a number" }).positive("must be positive").max(1).default(1),
  /** Outbound webhooks: an endpoint failing every attempt for this long is disabled. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number({ error: "must be a number" }).positive("must be positive").default(120),
  /** Consistency checker: calendar mappings asked about at their provider per run. */
  CONSISTENCY_CALENDAR_SAMPLE: z.coerce.number({ error: "must be a number" }).int().min(0).max(1000).default(50),
  /** Consistency checker: work this many minutes past its time with no job to run it is "stuck". */
  CONSISTENCY_GRACE_MINUTES: z.coerce.number({ error: "must be a number of minutes" }).min(1).max(1440).default(10),
});

export type Role = "all" | "web" | "worker";

export interface HubConfig {
  mode: "sandbox" | "production";
  port: number;
  host: string;
  /** Base URL people and providers reach the hub at (OAuth redirect URIs, links); unset: the listening URL. */
  publicUrl: string | undefined;
  /** Undefined means: start the embedded PostgreSQL. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  encryptionKeys: { id: string; key: Buffer }[];
  sessionSecret: string;
  workerConcurrency: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  seedSandbox: boolean;
  sandboxAdminPassword: string | undefined;
  sandboxVendorPassword: string | undefined;
  simulators: boolean;
  simulatorBasePort: number;
  secureCookies: boolean;
  /**
   * Provider API base URLs by connector id, overriding connector settings and the sandbox's simulators
   * (a proxy, a simulator on another host; tests point one hub at their own simulator this way).
   */
  providerApiRoots: Record<string, string>;
  /** Run graphile-worker's crontab (sweeps, scheduled imports) in worker processes. Off in tests. */
  cron: boolean;
  /** Bearer token for GET /metrics (API tokens with the "ops" scope work too). */
  metricsToken: string | undefined;
  /** Take part in the KPI ticker election (one process ticks every second). Follows CRON unless set. */
  opsTicker: boolean;
  /** How long a KPI must be past its threshold to open an alert, and past its recovery threshold to resolve it. */
  opsAlertForMs: number;
  opsAlertRecoverMs: number;
  /** Outbound webhooks: SSRF guard, retry schedule, timeouts (app/webhooks/outbound/config.ts). */
  webhooksOut: WebhooksOutConfig;
  /** The consistency checker (app/ops/consistency.server.ts). */
  consistency: { calendarSample: number; graceMs: number };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parse the environment without touching the disk. */
export function parseEnv(env: Record<string, string | undefined>): z.infer<typeof envSchema> {
  // Empty strings mean "unset" (as in a copied .env.example).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const name = String(i.path[0] ?? "environment");
        const got = cleaned[name];
        const shown = name.includes("KEY") || name.includes("SECRET") || name.includes("PASSWORD") ? "" : ` (got "${got}")`;
        return `${name} ${i.message}${got === undefined ? "" : shown}`;
      }),
    );
  }
  const parsed = result.data;
  const problems: string[] = [];
  if (parsed.HUB_MODE === "production") {
    if (!parsed.DATABASE_URL) problems.push("DATABASE_URL is required when HUB_MODE=production");
    if (!parsed.HUB_ENCRYPTION_KEYS) problems.push("HUB_ENCRYPTION_KEYS is required when HUB_MODE=production");
    if (!parsed.SESSION_SECRET) problems.push("SESSION_SECRET is required when HUB_MODE=production");
  }
  if (problems.length) throw new ConfigError(problems);
  return parsed;
}

/**
 * Sandbox mode keeps generated secrets in the data folder so sessions and
 * encrypted columns survive restarts; production must be given them.
 */
function sandboxSecret(dataDir: string, file: string, make: () => string): string {
  const p = path.join(dataDir, file);
  if (fs.existsSync(p)) return fs.readFileSync(p, "utf8").trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const value = make();
  fs.writeFileSync(p, value + "\n", { mode: 0o600 });
  return value;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const e = parseEnv(env);
  const dataDir = path.resolve(e.HUB_DATA_DIR);
  const encryptionKeys =
    e.HUB_ENCRYPTION_KEYS ??
    encryptionKeysSchema.parse(
      sandboxSecret(dataDir, "encryption-keys", () => `k1:${crypto.randomBytes(32).toString("base64")}`),
    );
  const sessionSecret =
    e.SESSION_SECRET ?? sandboxSecret(dataDir, "session-secret", () => crypto.randomBytes(32).toString("base64url"));
  return {
    mode: e.HUB_MODE,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.HUB_PUBLIC_URL?.replace(/\/$/, ""),
    databaseUrl: e.DATABASE_URL,
    dataDir,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    encryptionKeys,
    sessionSecret,
    workerConcurrency: e.WORKER_CONCURRENCY,
    logLevel: e.LOG_LEVEL,
    seedSandbox: e.HUB_MODE === "sandbox" && e.SANDBOX_SEED,
    sandboxAdminPassword: e.SANDBOX_ADMIN_PASSWORD,
    sandboxVendorPassword: e.SANDBOX_VENDOR_PASSWORD,
    simulators: e.SIMULATORS ?? e.HUB_MODE === "sandbox",
    simulatorBasePort: e.SIMULATOR_BASE_PORT,
    secureCookies: e.SECURE_COOKIES ?? e.HUB_MODE === "production",
    providerApiRoots: e.PROVIDER_API_ROOTS ?? {},
    cron: e.CRON ?? true,
    metricsToken: e.METRICS_TOKEN,
    opsTicker: e.OPS_TICKER ?? e.CRON ?? true,
    opsAlertForMs: e.OPS_ALERT_FOR_SECONDS * 1000,
    opsAlertRecoverMs: e.OPS_ALERT_RECOVER_SECONDS * 1000,
    webhooksOut: webhooksOutConfig(e.HUB_MODE, {
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      ssrfAllow: e.WEBHOOK_SSRF_ALLOW,
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      timeScale: e.WEBHOOK_TIME_SCALE,
      disableAfterHours: e.WEBHOOK_DISABLE_AFTER_HOURS,
    }),
    consistency: { calendarSample: e.CONSISTENCY_CALENDAR_SAMPLE, graceMs: e.CONSISTENCY_GRACE_MINUTES * 60_000 },
  };
}

/**
 * A config for a hub started inside another program (tests, benches): the
 * given database, a free loopback port, no seed, no simulators, fresh secrets.
 */
export function inProcessConfig(databaseUrl: string, overrides: Partial<HubConfig> = {}): HubConfig {
  return {
    mode: "sandbox",
    port: 0,
    host: "127.0.0.1",
    publicUrl: undefined,
    databaseUrl,
    dataDir: path.join(os.tmpdir(), "hub-in-process-data"),
    embeddedPgPort: 0,
    encryptionKeys: [{ id: "k1", key: crypto.randomBytes(32) }],
    sessionSecret: crypto.randomBytes(32).toString("hex"),
    workerConcurrency: 2,
    logLevel: "silent",
    seedSandbox: false,
    sandboxAdminPassword: undefined,
    sandboxVendorPassword: undefined,
    simulators: false,
    simulatorBasePort: 0,
    secureCookies: false,
    providerApiRoots: {},
    cron: false,
    metricsToken: undefined,
    opsTicker: false,
    opsAlertForMs: 3_000,
    opsAlertRecoverMs: 3_000,
    webhooksOut: webhooksOutConfig(overrides.mode ?? "sandbox", {}),
    consistency: { calendarSample: 50, graceMs: 10 * 60_000 },
    ...overrides,
  };
}
