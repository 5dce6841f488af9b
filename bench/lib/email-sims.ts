// The three email simulators (Resend, SendGrid, SES) for the messaging bench,
// and the connector rows that point the hub's real SDK providers at them, set
// the way test/messaging/helpers.ts sets them (settings + encrypted secrets, as
// staff would) but with the rate limits raised for a bench.
import { sql } from "drizzle-orm";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createResendSimulator, type ResendSimulatorDefinition } from "../../simulators/resend/index";
import { createSendGridSimulator, type SendGridSimulatorDefinition } from "../../simulators/sendgrid/index";
import { createSesSimulator, type SesSimulatorDefinition } from "../../simulators/ses/index";
import type { Outbox } from "../../simulators/email/outbox";
import type { HubContext } from "../../app/runtime/context.server";
import { invalidateProviders } from "../../app/messaging/registry.server";

export const EMAIL_PROVIDERS = ["resend", "sendgrid", "ses"] as const;
export type EmailProviderId = (typeof EMAIL_PROVIDERS)[number];

export const RESEND_API_KEY = "re_bench";
const SENDGRID_API_KEY = "SG.bench";
const SES_ACCESS_KEY_ID = "AKIABENCH";

export interface BenchEmailSims {
  resend: { def: ResendSimulatorDefinition; sim: RunningSimulator };
  sendgrid: { def: SendGridSimulatorDefinition; sim: RunningSimulator };
  ses: { def: SesSimulatorDefinition; sim: RunningSimulator };
  outboxes(): { id: EmailProviderId; outbox: Outbox }[];
  close(): Promise<void>;
}

export async function startBenchEmailSims(opts: { ratePerSecond: number }): Promise<BenchEmailSims> {
  const resendDef = createResendSimulator({ apiKeys: [RESEND_API_KEY], rateLimitPerSecond: opts.ratePerSecond });
  const sendgridDef = createSendGridSimulator({ apiKeys: [SENDGRID_API_KEY], rateLimitPerSecond: opts.ratePerSecond });
  const sesDef = createSesSimulator({ accessKeyIds: [SES_ACCESS_KEY_ID], maxSendRate: opts.ratePerSecond });
  const [resend, sendgrid, ses] = await Promise.all([
    startSimulator(resendDef, { seed: 1 }),
    startSimulator(sendgridDef, { seed: 2 }),
    startSimulator(sesDef, { seed: 3 }),
  ]);
  return {
    resend: { def: resendDef, sim: resend },
    sendgrid: { def: sendgridDef, sim: sendgrid },
    ses: { def: sesDef, sim: ses },
    outboxes: () => [
      { id: "resend", outbox: resendDef.outbox },
      { id: "sendgrid", outbox: sendgridDef.outbox },
      { id: "ses", outbox: sesDef.outbox },
    ],
    close: async () => {
      await Promise.all([resend.close(), sendgrid.close(), ses.close()]);
    },
  };
}

/**
 * Connector rows for the three providers in failover order (Resend, SendGrid, SES), with the hub's
 * own rate limit at `ratePerSecond`. `settings` overrides the breaker and timeout values.
 */
export async function configureBenchEmailProviders(
  ctx: HubContext,
  sims: BenchEmailSims,
  opts: { ratePerSecond: number; settings?: Record<string, unknown> },
): Promise<void> {
  const rows: [EmailProviderId, string, Record<string, string>, number][] = [
    ["resend", sims.resend.sim.url, { apiKey: RESEND_API_KEY }, 10],
    ["sendgrid", sims.sendgrid.sim.url, { apiKey: SENDGRID_API_KEY }, 20],
    ["ses", sims.ses.sim.url, { region: "eu-west-1", accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: "bench-secret" }, 30],
  ];
  for (const [id, url, secrets, priority] of rows) {
    const settings = {
      apiRootUrl: url,
      priority,
      timeoutMs: 1000,
      halfOpenAfterMs: 1000,
      breakerThreshold: 3,
      rateLimit: { requests: opts.ratePerSecond, perSeconds: 1 },
      ...opts.settings,
    };
    await ctx.db.execute(sql`insert into connectors (id, settings, secrets_enc)
      values (${id}, ${JSON.stringify(settings)}::jsonb, ${ctx.vault.encryptJson(secrets)})
      on conflict (id) do update set settings = excluded.settings, secrets_enc = excluded.secrets_enc, enabled = true`);
  }
  await ctx.db.execute(sql`delete from provider_health where provider in ('resend', 'sendgrid', 'ses')`);
  invalidateProviders(ctx);
}

/** The key as every email simulator records it: SES tags allow only [A-Za-z0-9_-], so compare keys in that form. */
export const outboxKey = (key: string) => key.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);

/**
 * Deliveries per message across all the simulators' outboxes: a key seen twice, at one provider or
 * at two, is a duplicate. Returns the distinct keys delivered and the duplicates (deliveries beyond the first).
 */
export function countAcrossOutboxes(sims: BenchEmailSims): { delivered: Map<string, number>; duplicates: number } {
  const delivered = new Map<string, number>();
  for (const { outbox } of sims.outboxes())
    for (const [key, n] of outbox.countsByKey()) {
      const k = outboxKey(key);
      delivered.set(k, (delivered.get(k) ?? 0) + n);
    }
  let duplicates = 0;
  for (const n of delivered.values()) if (n > 1) duplicates += n - 1;
  return { delivered, duplicates };
}
