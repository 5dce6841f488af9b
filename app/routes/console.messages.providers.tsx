// /console/messages/providers: every email, SMS and push provider — enabled,
// configured, failover priority — with its circuit as the workers last
// recorded it (provider_health), its recent success rate and last error, and
// any Retry-After wait. Read-only, from the database, so it is the same
// whichever hub process serves it.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { listProviderHealth, RECENT_ATTEMPTS } from "~/messaging/console.server";

export const meta: MetaFunction = () => [{ title: "Provider health · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const now = new Date();
  return { now: now.toISOString(), providers: await listProviderHealth(context.hub, now), window: RECENT_ATTEMPTS };
}

const NAMES: Record<string, string> = {
  resend: "Resend",
  sendgrid: "SendGrid",
  ses: "Amazon SES",
  smtp: "SMTP",
  twilio: "Twilio",
  "web-push": "Web Push",
};
const CHANNELS: Record<string, string> = { email: "Email", sms: "SMS", push: "Push" };
const CIRCUIT: Record<string, string> = {
  closed: "closed",
  open: "open",
  half_open: "half-open",
  isolated: "isolated",
  never_used: "closed (not used yet)",
};
const CREDENTIALS: Record<string, string> = { settings: "saved by staff", sandbox: "sandbox account", none: "none saved" };

const when = (iso: string | null) => (iso ? iso.replace("T", " ").slice(0, 19) : "–");

export default function ProviderHealth() {
  const { now, providers, window } = useLoaderData<typeof loader>();
  const nowMs = Date.parse(now);
  return (
    <>
      <h1>Provider health</h1>
      <p className="muted">
        Each channel tries its enabled, configured providers in priority order (lowest first) and fails over when one is down. A
        circuit opens after a run of failures in a row and is probed again (half-open) after a pause; a Retry-After keeps the hub
        off a provider until it ends. Circuit states are the workers&apos; last record; the success rate covers each
        provider&apos;s last {window} attempts.
      </p>
      <table aria-label="Providers" data-providers>
        <thead>
          <tr>
            <th>Provider</th>
            <th>Channel</th>
            <th>Enabled</th>
            <th>Configured</th>
            <th>Priority</th>
            <th>Circuit</th>
            <th>Recent success</th>
            <th>Last error</th>
            <th>Blocked until</th>
          </tr>
        </thead>
        <tbody>
          {providers.map((p) => {
            const probeDue = p.probeFrom !== null && Date.parse(p.probeFrom) <= nowMs;
            return (
              <tr key={p.id} data-provider={p.id} data-circuit={p.circuit}>
                <th scope="row">{NAMES[p.id] ?? p.id}</th>
                <td>{CHANNELS[p.channel] ?? p.channel}</td>
                <td data-enabled={p.enabled}>{p.enabled ? "yes" : "no"}</td>
                <td data-configured={p.configured === null ? "" : String(p.configured)}>
                  {p.settingsError ? (
                    <span className="field-error">settings not readable: {p.settingsError}</span>
                  ) : p.configured === null ? (
                    "–"
                  ) : p.configured ? (
                    <>
                      yes
                      {p.credentials !== "none" ? (
                        <span className="muted"> · credentials: {CREDENTIALS[p.credentials]}</span>
                      ) : null}
                    </>
                  ) : (
                    "no: missing credentials or settings"
                  )}
                  {p.apiRoot ? <div className="muted">{p.apiRoot}</div> : null}
                </td>
                <td>{p.priority}</td>
                <td data-circuit-state={p.circuit}>
                  <strong>{CIRCUIT[p.circuit] ?? p.circuit}</strong>
                  {p.circuit === "open" && p.openedAt ? <div className="muted">since {when(p.openedAt)}</div> : null}
                  {p.circuit === "open" && p.probeFrom ? (
                    <div className="muted">
                      {probeDue ? "the next delivery probes it (half-open)" : `probed again from ${when(p.probeFrom)}`}
                    </div>
                  ) : null}
                  {p.consecutiveFailures > 0 ? (
                    <div className="muted">
                      {p.consecutiveFailures} failure{p.consecutiveFailures === 1 ? "" : "s"} in a row
                      {p.breakerThreshold ? ` (opens at ${p.breakerThreshold})` : ""}
                    </div>
                  ) : null}
                  {p.updatedAt ? <div className="muted">recorded {when(p.updatedAt)}</div> : null}
                </td>
                <td data-success-rate={p.recent.rate === null ? "" : p.recent.rate.toFixed(2)}>
                  {p.recent.rate === null ? (
                    "no attempts yet"
                  ) : (
                    <>
                      {Math.round(p.recent.rate * 1000) / 10}%{" "}
                      <span className="muted">
                        ({p.recent.ok} of {p.recent.attempts})
                      </span>
                    </>
                  )}
                  {p.successes + p.failures > 0 ? (
                    <div className="muted">
                      all time: {p.successes} ok, {p.failures} failed
                    </div>
                  ) : null}
                </td>
                <td data-last-error>
                  {p.lastError ?? "–"}
                  {p.lastError && p.lastFailureAt ? <div className="muted">{when(p.lastFailureAt)}</div> : null}
                </td>
                <td data-blocked-until={p.blockedUntil ?? ""}>{p.blockedUntil ? when(p.blockedUntil) : "–"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
