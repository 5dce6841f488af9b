// Shared set-up for the messaging tests: the three email simulators, the
// connector rows pointing the real SDKs at them, and small waits.
import { sql } from "drizzle-orm";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createResendSimulator, type ResendSimulatorDefinition } from "../../simulators/resend/index";
import { createSendGridSimulator, type SendGridSimulatorDefinition } from "../../simulators/sendgrid/index";
import { createSesSimulator, type SesSimulatorDefinition } from "../../simulators/ses/index";
import type { HubContext } from "../../app/runtime/context.server";
import { invalidateProviders } from "../../app/messaging/registry.server";

export interface EmailSims {
  resend: { def: ResendSimulatorDefinition; sim: RunningSimulator };
  sendgrid: { def: SendGridSimulatorDefinition; sim: RunningSimulator };
  ses: { def: SesSimulatorDefinition; sim: RunningSimulator };
  close(): Promise<void>;
}

export async function startEmailSims(): Promise<EmailSims> {
  const resendDef = createResendSimulator({ apiKeys: ["re_test"], rateLimitPerSecond: 1000 });
  const sendgridDef = createSendGridSimulator({ apiKeys: ["SG.test"], rateLimitPerSecond: 1000 });
  const sesDef = createSesSimulator({ accessKeyIds: ["AKIATEST"], maxSendRate: 1000 });
  const [resend, sendgrid, ses] = await Promise.all([
    startSimulator(resendDef),
    startSimulator(sendgridDef),
    startSimulator(sesDef),
  ]);
  return {
    resend: { def: resendDef, sim: resend },
    sendgrid: { def: sendgridDef, sim: sendgrid },
    ses: { def: sesDef, sim: ses },
    close: async () => {
      await Promise.all([resend.close(), sendgrid.close(), ses.close()]);
    },
  };
}

/** Points the hub's email providers at the simulators (settings + encrypted secrets, as staff would). */
export async function configureEmailProviders(
  ctx: HubContext,
  sims: EmailSims,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const rows: [string, string, Record<string, string>, number][] = [
    ["resend", sims.resend.sim.url, { apiKey: "re_test" }, 10],
    ["sendgrid", sims.sendgrid.sim.url, { apiKey: "SG.test" }, 20],
    ["ses", sims.ses.sim.url, { region: "eu-west-1", accessKeyId: "AKIATEST", secretAccessKey: "test-secret" }, 30],
  ];
  for (const [id, url, secrets, priority] of rows) {
    const settings = {
      apiRootUrl: url,
      priority,
      timeoutMs: 1000,
      halfOpenAfterMs: 1000,
      breakerThreshold: 3,
      rateLimit: { requests: 1000, perSeconds: 1 },
      ...extra,
    };
    await ctx.db
      .execute(sql`insert into connectors (id, settings, secrets_enc) values (${id}, ${JSON.stringify(settings)}::jsonb, ${ctx.vault.encryptJson(secrets)})
      on conflict (id) do update set settings = excluded.settings, secrets_enc = excluded.secrets_enc, enabled = true`);
  }
  // A fresh start for these providers: an earlier test file may have left a circuit open in the shared database.
  await ctx.db.execute(sql`delete from provider_health where provider in ('resend', 'sendgrid', 'ses')`);
  invalidateProviders(ctx);
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
