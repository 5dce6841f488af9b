// Which providers a channel has, in which order, with which limits. Staff set
// them on the connector rows (settings jsonb: priority, enabled, rateLimit,
// timeoutMs, fromEmail, apiRootUrl; secrets_enc: API keys), PROVIDER_API_ROOTS
// overrides the API root, and the sandbox falls back to its simulators and
// their sandbox keys. Built per process and cached briefly, so a settings
// change reaches every worker within CACHE_MS.
import { inArray } from "drizzle-orm";
import { z } from "zod";
import { connectors } from "../../db/schema";
import type { HubContext } from "../runtime/context.server";
import { sandboxSimulatorUrl } from "../connectors/sandbox.server";
import { findConnector } from "../connectors/catalog";
import { providerSettingsSchema, type Channel, type MessageProvider, type ProviderSettings } from "./types";
import { createResendProvider } from "./email/resend.server";
import { createSendGridProvider } from "./email/sendgrid.server";
import { createSesProvider } from "./email/ses.server";
import { createSmtpProvider } from "./email/smtp.server";
import { twilioProviderFactory } from "./sms/config.server";
import { webPushProviderFactory } from "./push/web-push.server";

export interface ConfiguredProvider {
  provider: MessageProvider;
  settings: ProviderSettings;
}

/** A provider factory: null when the provider is not configured (no credentials). */
export type ProviderFactory = (input: {
  ctx: HubContext;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  apiRoot: string | undefined;
}) => MessageProvider | null;

const DEFAULT_PRIORITY: Record<string, number> = { resend: 10, sendgrid: 20, ses: 30, smtp: 40 };
const CACHE_MS = 15_000;

const str = z.string().min(1);
const factories = new Map<string, { channel: Channel; create: ProviderFactory }>();

/** Channels register their providers here (email below; SMS and push add theirs). */
export function registerProviderFactory(id: string, channel: Channel, create: ProviderFactory): void {
  factories.set(id, { channel, create });
}

registerProviderFactory("resend", "email", ({ secrets, apiRoot }) => {
  const apiKey = str.safeParse(secrets.apiKey);
  return apiKey.success ? createResendProvider({ apiKey: apiKey.data, baseUrl: apiRoot }) : null;
});
registerProviderFactory("sendgrid", "email", ({ secrets, apiRoot }) => {
  const apiKey = str.safeParse(secrets.apiKey);
  return apiKey.success ? createSendGridProvider({ apiKey: apiKey.data, baseUrl: apiRoot }) : null;
});
registerProviderFactory("ses", "email", ({ secrets, settings, apiRoot }) => {
  const parsed = z.object({ region: str, accessKeyId: str, secretAccessKey: str }).safeParse({
    region: secrets.region ?? settings.region,
    accessKeyId: secrets.accessKeyId ?? settings.accessKeyId,
    secretAccessKey: secrets.secretAccessKey,
  });
  if (!parsed.success) return null;
  const configurationSet = z.string().optional().parse(settings.configurationSet);
  return createSesProvider({ ...parsed.data, endpoint: apiRoot, configurationSet });
});
registerProviderFactory("smtp", "email", ({ settings, secrets }) => {
  const parsed = z
    .object({
      host: str,
      port: z.coerce.number().int().min(1).max(65535),
      secure: z.boolean().default(false),
      allowPlain: z.boolean().default(false),
      user: z.string().optional(),
    })
    .safeParse(settings);
  return parsed.success ? createSmtpProvider({ ...parsed.data, password: secrets.password }) : null;
});

// SMS and push (app/messaging/sms, app/messaging/push): each factory resolves its own credentials.
registerProviderFactory("twilio", "sms", twilioProviderFactory);
registerProviderFactory("web-push", "push", webPushProviderFactory);

/** The sandbox's simulator credentials (the simulators' built-in sandbox accounts). */
const SANDBOX_SECRETS: Record<string, Record<string, string>> = {
  resend: { apiKey: "re_sandbox_key" },
  sendgrid: { apiKey: "SG.sandbox-key" },
  ses: { region: "eu-west-1", accessKeyId: "AKIASANDBOX", secretAccessKey: "sandbox-secret" },
};

const cache = new WeakMap<HubContext, { at: number; byChannel: Map<Channel, ConfiguredProvider[]> }>();

/** Forget the cached providers (after staff change settings, and in tests). */
export function invalidateProviders(ctx: HubContext): void {
  const entry = cache.get(ctx);
  if (entry) for (const list of entry.byChannel.values()) for (const p of list) void p.provider.close?.();
  cache.delete(ctx);
}

async function build(ctx: HubContext): Promise<Map<Channel, ConfiguredProvider[]>> {
  const ids = [...factories.keys()];
  const rows = await ctx.db.select().from(connectors).where(inArray(connectors.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const byChannel = new Map<Channel, ConfiguredProvider[]>();
  for (const [id, { channel, create }] of factories) {
    const row = byId.get(id);
    if (row && !row.enabled) continue;
    const raw = row?.settings ?? {};
    const settings = providerSettingsSchema.parse({
      ...raw,
      priority: typeof raw.priority === "number" ? raw.priority : (DEFAULT_PRIORITY[id] ?? 100),
      rateLimit: raw.rateLimit ?? manifestRate(id),
    });
    if (!settings.enabled) continue;
    const sandboxUrl = sandboxSimulatorUrl(ctx.config, id);
    const secrets = row?.secretsEnc
      ? z.record(z.string(), z.string()).parse(ctx.vault.decryptJson(row.secretsEnc))
      : sandboxUrl
        ? (SANDBOX_SECRETS[id] ?? {})
        : {};
    const apiRoot =
      ctx.config.providerApiRoots[id] ??
      z.string().url().optional().catch(undefined).parse(raw.apiRootUrl) ??
      sandboxUrl ??
      undefined;
    const provider = create({ ctx, settings: raw, secrets, apiRoot });
    if (!provider) continue;
    const list = byChannel.get(channel) ?? [];
    list.push({ provider, settings });
    byChannel.set(channel, list);
  }
  for (const list of byChannel.values()) list.sort((a, b) => a.settings.priority - b.settings.priority);
  return byChannel;
}

function manifestRate(id: string): ProviderSettings["rateLimit"] {
  const m = findConnector(id);
  return m ? { requests: m.rateLimit.requests, perSeconds: m.rateLimit.perSeconds } : undefined;
}

/** The channel's providers in failover order. */
export async function providersFor(ctx: HubContext, channel: Channel): Promise<ConfiguredProvider[]> {
  const entry = cache.get(ctx);
  if (entry && Date.now() - entry.at < CACHE_MS) return entry.byChannel.get(channel) ?? [];
  const byChannel = await build(ctx);
  cache.set(ctx, { at: Date.now(), byChannel });
  return byChannel.get(channel) ?? [];
}
