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

type ConnectorRow = typeof connectors.$inferSelect;

interface ResolvedProvider {
  id: string;
  channel: Channel;
  /** Staff switched it on (the connector row's flag and settings.enabled). */
  enabled: boolean;
  settings: ProviderSettings;
  /** Where its credentials come from. */
  credentials: "settings" | "sandbox" | "none";
  apiRoot: string | undefined;
  /** null: enabled but not configured (the factory found no usable credentials), or disabled (not built). */
  provider: MessageProvider | null;
}

/** One provider as the engine sees it; the provider is only built when it is enabled. */
function resolve(
  ctx: HubContext,
  id: string,
  entry: { channel: Channel; create: ProviderFactory },
  row: ConnectorRow | undefined,
): ResolvedProvider {
  const raw = row?.settings ?? {};
  const settings = providerSettingsSchema.parse({
    ...raw,
    priority: typeof raw.priority === "number" ? raw.priority : (DEFAULT_PRIORITY[id] ?? 100),
    rateLimit: raw.rateLimit ?? manifestRate(id),
  });
  const enabled = (row?.enabled ?? true) && settings.enabled;
  const sandboxUrl = sandboxSimulatorUrl(ctx.config, id);
  const credentials = row?.secretsEnc ? "settings" : sandboxUrl ? "sandbox" : "none";
  const apiRoot =
    ctx.config.providerApiRoots[id] ??
    z.string().url().optional().catch(undefined).parse(raw.apiRootUrl) ??
    sandboxUrl ??
    undefined;
  if (!enabled) return { id, channel: entry.channel, enabled, settings, credentials, apiRoot, provider: null };
  const secrets = row?.secretsEnc
    ? z.record(z.string(), z.string()).parse(ctx.vault.decryptJson(row.secretsEnc))
    : sandboxUrl
      ? (SANDBOX_SECRETS[id] ?? {})
      : {};
  const provider = entry.create({ ctx, settings: raw, secrets, apiRoot });
  return { id, channel: entry.channel, enabled, settings, credentials, apiRoot, provider };
}

async function connectorRows(ctx: HubContext): Promise<Map<string, ConnectorRow>> {
  const rows = await ctx.db
    .select()
    .from(connectors)
    .where(inArray(connectors.id, [...factories.keys()]));
  return new Map(rows.map((r) => [r.id, r]));
}

async function build(ctx: HubContext): Promise<Map<Channel, ConfiguredProvider[]>> {
  const byId = await connectorRows(ctx);
  const byChannel = new Map<Channel, ConfiguredProvider[]>();
  for (const [id, entry] of factories) {
    const row = byId.get(id);
    if (row && !row.enabled) continue;
    const { provider, settings } = resolve(ctx, id, entry, row);
    if (!provider) continue;
    const list = byChannel.get(entry.channel) ?? [];
    list.push({ provider, settings });
    byChannel.set(entry.channel, list);
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

export interface ProviderDescription {
  id: string;
  channel: Channel;
  enabled: boolean;
  /** Enabled and has what it needs to send; null when disabled (not checked). */
  configured: boolean | null;
  priority: number;
  credentials: "settings" | "sandbox" | "none";
  apiRoot: string | null;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  /** Settings staff saved that the engine cannot read (the provider is then left out). */
  settingsError: string | null;
}

/**
 * Every registered provider as this process would build it right now, for the console (read-only:
 * a provider built here to check its configuration is closed again at once, and the engine's cache is untouched).
 */
export async function describeProviders(ctx: HubContext): Promise<ProviderDescription[]> {
  const byId = await connectorRows(ctx);
  const out: ProviderDescription[] = [];
  for (const [id, entry] of factories) {
    try {
      const r = resolve(ctx, id, entry, byId.get(id));
      if (r.provider) void r.provider.close?.();
      out.push({
        id,
        channel: r.channel,
        enabled: r.enabled,
        configured: r.enabled ? r.provider !== null : null,
        priority: r.settings.priority,
        credentials: r.credentials,
        apiRoot: r.apiRoot ?? null,
        breakerThreshold: r.settings.breakerThreshold,
        halfOpenAfterMs: r.settings.halfOpenAfterMs,
        settingsError: null,
      });
    } catch (err) {
      out.push({
        id,
        channel: entry.channel,
        enabled: byId.get(id)?.enabled ?? true,
        configured: false,
        priority: DEFAULT_PRIORITY[id] ?? 100,
        credentials: byId.get(id)?.secretsEnc ? "settings" : "none",
        apiRoot: null,
        breakerThreshold: 0,
        halfOpenAfterMs: 0,
        settingsError: err instanceof Error ? err.message.slice(0, 300) : String(err),
      });
    }
  }
  const channelOrder: Channel[] = ["email", "sms", "push"];
  return out.sort((a, b) => channelOrder.indexOf(a.channel) - channelOrder.indexOf(b.channel) || a.priority - b.priority);
}
