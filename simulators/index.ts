// Registry of provider simulators started by the sandbox and benches.
import { startSimulator } from "./harness.js";
import type { RunningSimulator, SimulatorDefinition } from "./harness.js";

// Intentionally empty: each provider simulator (Google Calendar, etc.) is added
// by its connector's issue, alongside the connector that talks to it.
export const simulatorRegistry: SimulatorDefinition[] = [];

// Starts every registered simulator on basePort + index, so ports are stable
// and predictable for the sandbox console. If one fails to start, the ones
// already running are closed so no listeners leak.
export async function startSandboxSimulators(basePort: number): Promise<RunningSimulator[]> {
  const running: RunningSimulator[] = [];
  try {
    for (const [index, def] of simulatorRegistry.entries()) {
      running.push(await startSimulator(def, { port: basePort + index }));
    }
  } catch (err) {
    await Promise.allSettled(running.map((sim) => sim.close()));
    throw err;
  }
  return running;
}
