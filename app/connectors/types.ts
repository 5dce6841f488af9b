// The connector contract: each provider is one folder under app/connectors/
// with a manifest (data) describing it. The catalog lists manifests; the
// console renders from them; adding a provider is adding a folder.

export type ConnectorCategory = "calendar" | "crm" | "email" | "sms";

export type Capability =
  "pushEvents" | "pullAvailability" | "receiveWebhooks" | "importClients" | "sendEmail" | "sendSms" | "deliveryEvents" | "feed";

export interface OAuthEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  /** Absent when the provider has no revocation endpoint (Microsoft). */
  revokeUrl?: string;
  /** Returns the account's identity for "Connected as …". */
  userinfoUrl: string;
}

/** How to read the account identity from the userinfo response (dotted paths, first present wins). */
export interface IdentityPaths {
  id: string[];
  label: string[];
}

export type AuthSpec =
  | {
      kind: "oauth2";
      /** Production endpoints; the sandbox and staff settings may override them. */
      endpoints: OAuthEndpoints;
      /** Endpoints of the provider simulator, relative to its base URL (sandbox). */
      simulatorPaths: OAuthEndpoints;
      scopes: string[];
      /** Extra authorize parameters the provider needs for refresh tokens, e.g. access_type=offline. */
      authorizeParams?: Record<string, string>;
      identity: IdentityPaths;
    }
  | {
      kind: "api_key" | "basic" | "app_password";
      fields: { name: string; label: string; secret: boolean; help?: string }[];
    }
  | { kind: "none" };

export interface ConnectorManifest {
  id: string;
  name: string;
  category: ConnectorCategory;
  description: string;
  auth: AuthSpec;
  capabilities: Capability[];
  /** The provider's documented limit, enforced by the hub's limiter. */
  rateLimit: { requests: number; perSeconds: number; scope: "account" | "app" };
  docsUrl: string;
  /** The simulator that stands in for this provider in the sandbox (simulators/index.ts), if any. */
  simulator?: string;
}
