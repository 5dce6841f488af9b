// An in-process hub for benches: the web role on a free loopback port, no
// sandbox seed, no simulators, fresh random secrets, logs (warn and up) on
// stderr so stdout stays the bench's own report.
import { pino } from "pino";
import { inProcessConfig, type HubConfig, type Role } from "../../app/config.server";
import { createLogger } from "../../app/log.server";
import { startHub, type RunningHub } from "../../app/runtime/hub.server";

export function benchHubConfig(databaseUrl: string, overrides: Partial<HubConfig> = {}): HubConfig {
  return inProcessConfig(databaseUrl, { logLevel: "warn", ...overrides });
}

export async function startBenchHub(
  databaseUrl: string,
  opts: { role?: Role; config?: Partial<HubConfig> } = {},
): Promise<RunningHub & { url: string }> {
  const config = benchHubConfig(databaseUrl, opts.config);
  const hub = await startHub({
    config,
    role: opts.role ?? "web",
    logger: createLogger(config.logLevel, pino.destination({ fd: 2, sync: true })),
  });
  if (!hub.url) {
    await hub.stop();
    throw new Error("the bench hub has no web server (role worker?)");
  }
  return hub as RunningHub & { url: string };
}
