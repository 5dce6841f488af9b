// Where the hub's Twilio account comes from, in the same order as the
// messaging registry: the staff's connector row (secrets vault-encrypted),
// PROVIDER_API_ROOTS for the API root, and in the sandbox the Twilio
// simulator's sandbox account. The webhook routes need the same auth token the
// provider sends with, so both go through twilioSettingsFrom().
import { eq } from "drizzle-orm";
import { z } from "zod";
import { connectors } from "../../../db/schema";
import type { HubContext } from "../../runtime/context.server";
import { sandboxSimulatorUrl } from "../../connectors/sandbox.server";
import { TWILIO_SANDBOX_ACCOUNT } from "../../../simulators/twilio/index";
import { createTwilioProvider, twilioSettingsSchema, type TwilioProvider, type TwilioSettings } from "./twilio.server";

export const TWILIO_STATUS_PATH = "/messaging/twilio/status";
export const TWILIO_INBOUND_PATH = "/messaging/twilio/inbound";

const maybe = z.string().min(1).optional().catch(undefined);

/** From the registry's inputs (connector settings + decrypted secrets + resolved API root). */
export function twilioSettingsFrom(input: {
  ctx: HubContext;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  apiRoot: string | undefined;
}): TwilioSettings | null {
  const { ctx, settings, secrets } = input;
  const sandboxUrl = sandboxSimulatorUrl(ctx.config, "twilio");
  const configured = maybe.parse(secrets.authToken);
  // Without staff credentials, only the sandbox simulator's own account is ever used.
  const useSandbox = !configured && sandboxUrl !== null && (input.apiRoot ?? sandboxUrl) === sandboxUrl;
  const candidate = {
    accountSid: useSandbox
      ? TWILIO_SANDBOX_ACCOUNT.accountSid
      : (maybe.parse(secrets.accountSid) ?? maybe.parse(settings.accountSid)),
    authToken: useSandbox ? TWILIO_SANDBOX_ACCOUNT.authToken : configured,
    from: useSandbox ? TWILIO_SANDBOX_ACCOUNT.from : (maybe.parse(secrets.from) ?? maybe.parse(settings.from)),
    apiRoot: input.apiRoot,
    statusCallbackUrl: `${ctx.publicUrl()}${TWILIO_STATUS_PATH}`,
  };
  const parsed = twilioSettingsSchema.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

/** For the webhook routes: read the connector row the same way the registry does. */
export async function loadTwilioSettings(ctx: HubContext): Promise<TwilioSettings | null> {
  const [row] = await ctx.db.select().from(connectors).where(eq(connectors.id, "twilio"));
  if (row && !row.enabled) return null;
  const raw = row?.settings ?? {};
  const secrets = row?.secretsEnc ? z.record(z.string(), z.string()).parse(ctx.vault.decryptJson(row.secretsEnc)) : {};
  const apiRoot =
    ctx.config.providerApiRoots.twilio ??
    z.url().optional().catch(undefined).parse(raw.apiRootUrl) ??
    sandboxSimulatorUrl(ctx.config, "twilio") ??
    undefined;
  return twilioSettingsFrom({ ctx, settings: raw, secrets, apiRoot });
}

/** For app/messaging/registry.server.ts: registerProviderFactory("twilio", "sms", twilioProviderFactory). */
export function twilioProviderFactory(input: Parameters<typeof twilioSettingsFrom>[0]): TwilioProvider | null {
  const settings = twilioSettingsFrom(input);
  return settings ? createTwilioProvider(settings) : null;
}
