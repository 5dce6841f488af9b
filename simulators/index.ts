// Registry of provider simulators started by the sandbox and benches.
import { startSimulator } from "./harness.js";
import type { RunningSimulator, SimulatorDefinition } from "./harness.js";
import { createOAuthSimulator, SANDBOX_OAUTH_CLIENTS, SANDBOX_OAUTH_USERS } from "./oauth/index.js";
import type { OAuthProvider, OAuthSimulatorDefinition } from "./oauth/index.js";

export { createOAuthSimulator, SANDBOX_OAUTH_CLIENTS, SANDBOX_OAUTH_USERS } from "./oauth/index.js";
import { createGoogleCalendarSimulator } from "./google-calendar/index.js";
import { createMicrosoftGraphSimulator } from "./microsoft-graph/index.js";
import { createTaveSimulator } from "./tave/index.js";

function sandboxOAuth(provider: OAuthProvider): OAuthSimulatorDefinition {
  return createOAuthSimulator(provider, {
    clients: [SANDBOX_OAUTH_CLIENTS[provider]],
    users: SANDBOX_OAUTH_USERS[provider],
  });
}

/** The sandbox's OAuth simulators, for in-process control (counters, revoking, TTL). */
export const sandboxOAuthSimulators: Readonly<Record<OAuthProvider, OAuthSimulatorDefinition>> = Object.freeze({
  google: sandboxOAuth("google"),
  microsoft: sandboxOAuth("microsoft"),
  honeybook: sandboxOAuth("honeybook"),
});

/** Google Calendar API v3, accepting the access tokens the Google OAuth simulator issued. */
export const sandboxGoogleCalendar = createGoogleCalendarSimulator({
  authorize: (token) => sandboxOAuthSimulators.google.oauth.checkAccessToken(token),
});

/** Microsoft Graph v1.0 calendar API, accepting the access tokens the Microsoft OAuth simulator issued. */
export const sandboxMicrosoftGraph = createMicrosoftGraphSimulator({
  authorize: (token) => sandboxOAuthSimulators.microsoft.oauth.checkAccessToken(token),
});

/** Tave API v2 with one demo studio: API key `tave-sandbox-key`, 60 clients (one malformed email, one malformed date). */
export const sandboxTave = createTaveSimulator({
  accounts: [
    { apiKey: "tave-sandbox-key", name: "Sandbox Studio", count: 60, seed: 1, malformedEmail: [7], malformedDate: [23] },
  ],
});

// Each provider simulator is added by its connector's issue, alongside the
// connector that talks to it. Order is the port layout (basePort + index,
// SIMULATOR_BASE_PORT defaults to 4100): append only, never reorder.
//   +0 google     Google OAuth (accounts.google.com / oauth2.googleapis.com stand-in)
//   +1 microsoft  Microsoft identity platform v2.0 + Graph /v1.0/me
//   +2 honeybook  HoneyBook OAuth + /api/v2/users/me
//   +3 google-calendar  Calendar API v3 (www.googleapis.com/calendar/v3 stand-in)
//   +4 microsoft-graph  Graph v1.0 events, calendarView delta, subscriptions (graph.microsoft.com stand-in)
//   +5 tave       Tave API v2 /api/v2/clients (tave.io stand-in), X-Api-Key, 100 requests/min per account
export const simulatorRegistry: SimulatorDefinition[] = [
  sandboxOAuthSimulators.google,
  sandboxOAuthSimulators.microsoft,
  sandboxOAuthSimulators.honeybook,
  sandboxGoogleCalendar,
  sandboxMicrosoftGraph,
  sandboxTave,
];

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
