// The sandbox's stand-ins for providers: the simulators the hub starts on
// 127.0.0.1 (simulators/index.ts), and their registered sandbox OAuth clients.
import type { HubConfig } from "../config.server";
import { simulatorRegistry, SANDBOX_OAUTH_CLIENTS } from "../../simulators/index";

/** Base URL of a registered simulator in this hub's sandbox, or null when simulators are off. */
export function sandboxSimulatorUrl(config: HubConfig, name: string): string | null {
  if (!config.simulators) return null;
  const index = simulatorRegistry.findIndex((d) => d.name === name);
  return index < 0 ? null : `http://127.0.0.1:${config.simulatorBasePort + index}`;
}

export function sandboxOAuthClient(simulator: string): { clientId: string; clientSecret: string } | null {
  const client = (SANDBOX_OAUTH_CLIENTS as Record<string, { clientId: string; clientSecret: string } | undefined>)[simulator];
  return client ? { clientId: client.clientId, clientSecret: client.clientSecret } : null;
}
