// What the console's Connectors and Connections pages load and what their actions answer.
// Client-safe: no server imports (types only).
import type { AuthSpec, Capability, ConnectorCategory, ConnectorManifest } from "~/connectors/types";
import type { ConnectorState } from "~/connectors/connections.server";

/** One catalog entry as the console shows it. Never carries the client secret, only whether one is stored. */
export interface ConnectorRow {
  id: string;
  name: string;
  category: ConnectorCategory;
  description: string;
  authKind: AuthSpec["kind"];
  capabilities: Capability[];
  rateLimit: ConnectorManifest["rateLimit"];
  docsUrl: string;
  state: ConnectorState;
  enabled: boolean;
  clientId: string | null;
  hasSecret: boolean;
  /** The scopes asked for: the saved ones, else the manifest's. */
  scopes: string[];
  /** True when `scopes` are the manifest's defaults (nothing saved). */
  defaultScopes: boolean;
  activeConnections: number;
}

/** The settings form's fields, by the names the form posts. */
export type SettingsField = "enabled" | "clientId" | "clientSecret" | "scopes";

export type ConnectorSettingsResult =
  | { status: "saved"; connectorId: string; message: string; savedAt: number }
  | {
      status: "invalid";
      connectorId: string;
      message: string;
      fieldErrors: Partial<Record<SettingsField | "_", string[]>>;
      /** What was submitted, to re-fill the form (never the secret). */
      values: { enabled: boolean; clientId: string; scopes: string };
    }
  | { status: "forbidden" | "bad_request" | "not_found"; connectorId: string | null; message: string };

export type RefreshResult = {
  connectionId: string | null;
  tone: "ok" | "warn" | "error";
  message: string;
};
