// Registry of provider simulators started by the sandbox and benches.
import { startSimulator } from "./harness.js";
import type { RunningSimulator, SimulatorDefinition } from "./harness.js";
import { createOAuthSimulator, SANDBOX_OAUTH_CLIENTS, SANDBOX_OAUTH_USERS } from "./oauth/index.js";
import type { OAuthProvider, OAuthSimulatorDefinition } from "./oauth/index.js";

export { createOAuthSimulator, SANDBOX_OAUTH_CLIENTS, SANDBOX_OAUTH_USERS } from "./oauth/index.js";
import { createGoogleCalendarSimulator } from "./google-calendar/index.js";
import { createMicrosoftGraphSimulator } from "./microsoft-graph/index.js";
import { createTaveSimulator } from "./tave/index.js";
import { createResendSimulator } from "./resend/index.js";
import { createSendGridSimulator } from "./sendgrid/index.js";
import { createSesSimulator } from "./ses/index.js";
import { createHoneyBookApiSimulator } from "./honeybook-api/index.js";
import { createSeventeenHatsSimulator } from "./seventeen-hats/index.js";
import { createLightBluePortalSimulator } from "./lightblue-portal/index.js";
import { createWebhookReceiverSimulator } from "./webhook-receiver/index.js";
import { createTwilioSimulator } from "./twilio/index.js";
import { createPushServiceSimulator } from "./push-service/index.js";

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

/**
 * HoneyBook's API behind its web app, accepting the HoneyBook OAuth simulator's tokens. Each sandbox
 * consent-page account has projects: 40 for the first (one malformed email, one impossible date), 12 for the second.
 */
export const sandboxHoneyBookApi = createHoneyBookApiSimulator({
  authorize: (token) => {
    const check = sandboxOAuthSimulators.honeybook.oauth.checkAccessToken(token);
    return check.ok ? { ok: true, userId: check.userId } : { ok: false, reason: check.reason };
  },
  accounts: [
    { userId: SANDBOX_OAUTH_USERS.honeybook[0]!.id, count: 40, seed: 1, malformedEmail: [5], malformedDate: [17] },
    { userId: SANDBOX_OAUTH_USERS.honeybook[1]!.id, count: 12, seed: 2 },
  ],
});

/** 17hats with one demo business: API key `seventeen-hats-sandbox-key`, 45 contacts (one malformed email, one day-first date). */
export const sandboxSeventeenHats = createSeventeenHatsSimulator({
  accounts: [
    {
      apiKey: "seventeen-hats-sandbox-key",
      businessName: "Sandbox Events Co.",
      count: 45,
      seed: 1,
      malformedEmail: [9],
      malformedDate: [31],
    },
  ],
});

/** LightBlue's web portal with one demo studio: username `sandbox-studio`, password `lightblue-sandbox-pass`, 55 clients. */
export const sandboxLightBlue = createLightBluePortalSimulator({
  accounts: [
    {
      username: "sandbox-studio",
      password: "lightblue-sandbox-pass",
      studioName: "Sandbox Studio",
      count: 55,
      seed: 1,
      malformedEmail: [4],
      malformedDate: [40],
    },
  ],
});

/** Email providers (issue 8): each keeps an outbox the console shows and tests count per idempotency key. */
export const sandboxResend = createResendSimulator();
export const sandboxSendGrid = createSendGridSimulator();
export const sandboxSes = createSesSimulator();

/** A receiver for the sandbox's outbound webhook endpoints: POST anything; /__sim/receiver/* lists, verifies, fails on demand. */
export const sandboxWebhookReceiver = createWebhookReceiverSimulator();

/** Twilio Programmable Messaging with the sandbox account (TWILIO_SANDBOX_ACCOUNT, from +15005550006). */
export const sandboxTwilio = createTwilioSimulator();

/** A Web Push service; tests and the console register browser-side key pairs through its control API. */
export const sandboxPushService = createPushServiceSimulator();

// Each provider simulator is added by its connector's issue, alongside the
// connector that talks to it. Order is the port layout (basePort + index,
// SIMULATOR_BASE_PORT defaults to 4100): append only, never reorder.
//   +0 google     Google OAuth (accounts.google.com / oauth2.googleapis.com stand-in)
//   +1 microsoft  Microsoft identity platform v2.0 + Graph /v1.0/me
//   +2 honeybook  HoneyBook OAuth + /api/v2/users/me
//   +3 google-calendar  Calendar API v3 (www.googleapis.com/calendar/v3 stand-in)
//   +4 microsoft-graph  Graph v1.0 events, calendarView delta, subscriptions (graph.microsoft.com stand-in)
//   +5 tave       Tave API v2 /api/v2/clients (tave.io stand-in), X-Api-Key, 100 requests/min per account
//   +6 honeybook-api  HoneyBook /api/v2/client/events (paged) + /api/v2/events/{id}/details, Bearer tokens of +2
//   +7 seventeen-hats  17hats /api/v1/contacts (paged), X-API-KEY, 60 requests/min per account
//   +8 lightblue-portal  LightBlue web portal: login form (CSRF), session cookie, paginated HTML client list
//   +9 resend     Resend POST /emails (Idempotency-Key), Svix-signed events; key re_sandbox_key
//   +10 sendgrid  SendGrid v3 /v3/mail/send (counts per hub_key custom arg), ECDSA-signed Event Webhook; key SG.sandbox-key
//   +11 ses       SES v2 /v2/email/outbound-emails (SigV4, access key AKIASANDBOX), SNS-signed events
//   +12 webhook-receiver  outbound webhooks' far end: records and verifies (standardwebhooks), fails N times / always / per couple / hangs
//   +13 twilio    Twilio Messages.json (Basic auth, 21211/21610…), signed status callbacks and inbound STOP/START; account TWILIO_SANDBOX_ACCOUNT
//   +14 push-service  RFC 8030 push service: VAPID checked, aes128gcm payloads decrypted with subscriptions registered via /__sim/subscriptions
export const simulatorRegistry: SimulatorDefinition[] = [
  sandboxOAuthSimulators.google,
  sandboxOAuthSimulators.microsoft,
  sandboxOAuthSimulators.honeybook,
  sandboxGoogleCalendar,
  sandboxMicrosoftGraph,
  sandboxTave,
  sandboxHoneyBookApi,
  sandboxSeventeenHats,
  sandboxLightBlue,
  sandboxResend,
  sandboxSendGrid,
  sandboxSes,
  sandboxWebhookReceiver,
  sandboxTwilio,
  sandboxPushService,
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
