// Words for the connector catalog and connection health, shared by the console's
// Connectors and Connections pages. Client-safe: no server imports.
import type { AuthSpec, Capability, ConnectorCategory, ConnectorManifest } from "~/connectors/types";
import type { ConnectorState } from "~/connectors/connections.server";

export const CATEGORY_ORDER: readonly ConnectorCategory[] = ["calendar", "crm", "email", "sms"];

export const CATEGORY_LABEL: Record<ConnectorCategory, string> = {
  calendar: "Calendars",
  crm: "CRMs",
  email: "Email",
  sms: "SMS",
};

export const STATE_LABEL: Record<ConnectorState, string> = {
  configured: "configured",
  sandbox: "sandbox",
  "missing-credentials": "missing credentials",
  disabled: "disabled",
  "no-credentials-needed": "no credentials needed",
};

export const STATE_HELP: Record<ConnectorState, string> = {
  configured: "Uses the OAuth client saved here.",
  sandbox: "Uses the sandbox simulator and its registered client until a client id and secret are saved.",
  "missing-credentials": "Vendors cannot connect until an admin saves an OAuth client id and secret.",
  disabled: "Switched off: vendors cannot connect, and existing connections do not sync.",
  "no-credentials-needed": "Vendors enter their own credentials (or a feed URL) when they connect.",
};

export const AUTH_LABEL: Record<AuthSpec["kind"], string> = {
  oauth2: "OAuth 2.0",
  api_key: "API key",
  basic: "Username and password",
  app_password: "App-specific password",
  none: "None (public feed)",
};

export const CAPABILITY_LABEL: Record<Capability, string> = {
  pushEvents: "Push events",
  pullAvailability: "Pull availability",
  receiveWebhooks: "Receive webhooks",
  importClients: "Import clients",
  sendEmail: "Send email",
  sendSms: "Send SMS",
  deliveryEvents: "Delivery events",
  feed: "Calendar feed",
};

/** "600 requests per minute, per account". */
export function rateLimitText(rate: ConnectorManifest["rateLimit"]): string {
  const { requests, perSeconds, scope } = rate;
  let window: string;
  if (perSeconds === 1) window = "second";
  else if (perSeconds === 60) window = "minute";
  else if (perSeconds === 3600) window = "hour";
  else if (perSeconds % 60 === 0) window = `${perSeconds / 60} minutes`;
  else window = `${perSeconds} seconds`;
  const who = scope === "account" ? "per connected account" : "for the whole hub";
  return `${requests.toLocaleString("en-US")} requests per ${window}, ${who}`;
}

/** Scopes typed one per line or space-separated (scopes never contain whitespace). */
export function parseScopes(text: string): string[] {
  return [...new Set(text.split(/\s+/).filter(Boolean))];
}

/** A fixed, timezone-free rendering (the same on the server and in the browser): "2025-06-01 14:05 UTC". */
export function formatWhen(value: Date | string | null): string {
  if (!value) return "–";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "–";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "in 59 minutes" / "3 hours ago", relative to `now` (computed by the loader, so hydration agrees). */
export function relativeTo(value: Date | string | null, now: number): string | null {
  if (!value) return null;
  const ms = new Date(value).getTime() - now;
  const abs = Math.abs(ms);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (abs < 60_000) return ms >= 0 ? "in under a minute" : "just now";
  let text: string;
  if (abs < 3_600_000) text = unit(Math.round(abs / 60_000), "minute");
  else if (abs < 86_400_000) text = unit(Math.round(abs / 3_600_000), "hour");
  else text = unit(Math.round(abs / 86_400_000), "day");
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
