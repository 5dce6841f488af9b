// Where each provider's webhook verification material comes from: the
// connector row staff configure (secrets_enc for secrets, settings for public
// material), read fresh per request so a rotated secret applies at once.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { connectors } from "../../../db/schema";
import type { HubContext } from "../../runtime/context.server";

export interface EventsConfig {
  /** Resend: the endpoint's Svix signing secret ("whsec_…"). */
  resendWebhookSecret?: string;
  /** SendGrid: the Event Webhook verification key (base64 DER SPKI, P-256). */
  sendgridPublicKey?: string;
  /** SES/SNS: topics accepted (empty = any topic whose signature verifies). */
  snsTopicArns: string[];
  /** SES/SNS: which hosts may serve SigningCertURL / SubscribeURL. */
  snsHostPattern: RegExp;
  /** SES/SNS: plain http allowed for those URLs (sandbox simulators only). */
  snsAllowHttp: boolean;
}

const str = z.string().min(1);

async function connector(ctx: HubContext, id: string) {
  const [row] = await ctx.db.select().from(connectors).where(eq(connectors.id, id));
  const secrets = row?.secretsEnc ? z.record(z.string(), z.string()).parse(ctx.vault.decryptJson(row.secretsEnc)) : {};
  return { settings: row?.settings ?? {}, secrets };
}

/** *.amazonaws.com (https) in production; the simulators on 127.0.0.1 in the sandbox. */
export function snsHostPolicy(mode: "sandbox" | "production"): { pattern: RegExp; allowHttp: boolean } {
  return mode === "production"
    ? { pattern: /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/, allowHttp: false }
    : { pattern: /^127\.0\.0\.1$/, allowHttp: true };
}

export async function loadEventsConfig(ctx: HubContext, provider: "resend" | "sendgrid" | "ses"): Promise<EventsConfig> {
  const { settings, secrets } = await connector(ctx, provider);
  const policy = snsHostPolicy(ctx.config.mode);
  return {
    resendWebhookSecret: str.optional().catch(undefined).parse(secrets.webhookSecret),
    sendgridPublicKey: str
      .optional()
      .catch(undefined)
      .parse(secrets.eventWebhookPublicKey ?? settings.eventWebhookPublicKey),
    snsTopicArns: z
      .array(str)
      .catch([])
      .parse(settings.snsTopicArns ?? []),
    snsHostPattern: policy.pattern,
    snsAllowHttp: policy.allowHttp,
  };
}
