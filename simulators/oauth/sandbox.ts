// Sandbox configuration of the OAuth simulators: one registered client per
// provider (the hub's sandbox connector settings use these credentials) and
// two sandbox accounts to pick on the consent page.
import type { OAuthClientConfig, OAuthProvider, OAuthUserConfig } from "./types.js";

// The sandbox simulators run inside the hub process, so the registered
// redirect URIs follow the hub's own address (PORT, HUB_PUBLIC_URL).
const hubOrigins = (): string[] => {
  // An invalid PORT is reported by the hub's config check, not here.
  const port = /^\d{1,5}$/.test(process.env.PORT ?? "") ? process.env.PORT! : "3000";
  const origins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  if (process.env.HUB_PUBLIC_URL && URL.canParse(process.env.HUB_PUBLIC_URL))
    origins.push(new URL(process.env.HUB_PUBLIC_URL).origin);
  return origins;
};

const callbacks = (connector: string): readonly string[] =>
  Object.freeze(hubOrigins().map((o) => `${o}/oauth/callback/${connector}`));

export const SANDBOX_OAUTH_CLIENTS: Readonly<Record<OAuthProvider, Readonly<OAuthClientConfig>>> = Object.freeze({
  google: Object.freeze({
    clientId: "hub-sandbox-google",
    clientSecret: "hub-sandbox-google-secret",
    redirectUris: callbacks("google-calendar"),
    name: "WedSync Integration Hub (sandbox)",
  }),
  microsoft: Object.freeze({
    clientId: "hub-sandbox-microsoft",
    clientSecret: "hub-sandbox-microsoft-secret",
    redirectUris: callbacks("outlook-calendar"),
    name: "WedSync Integration Hub (sandbox)",
  }),
  honeybook: Object.freeze({
    clientId: "hub-sandbox-honeybook",
    clientSecret: "hub-sandbox-honeybook-secret",
    redirectUris: callbacks("honeybook"),
    name: "WedSync Integration Hub (sandbox)",
  }),
});

// Same two people on every provider, with ids shaped like each provider's
// (Google numeric sub, Graph GUID, HoneyBook 24-hex _id).
export const SANDBOX_OAUTH_USERS: Readonly<Record<OAuthProvider, readonly OAuthUserConfig[]>> = Object.freeze({
  google: [
    { id: "108234567890123456781", email: "vendor@sandbox.wedsync.test", name: "Lena Lumen" },
    { id: "108234567890123456782", email: "vendor2@sandbox.wedsync.test", name: "Chris Olive" },
  ],
  microsoft: [
    { id: "5f3c1a2e-8b4d-4e6f-9a1b-2c3d4e5f6a71", email: "vendor@sandbox.wedsync.test", name: "Lena Lumen" },
    { id: "5f3c1a2e-8b4d-4e6f-9a1b-2c3d4e5f6a72", email: "vendor2@sandbox.wedsync.test", name: "Chris Olive" },
  ],
  honeybook: [
    {
      id: "64f1a2b3c4d5e6f7a8b9c0d1",
      email: "vendor@sandbox.wedsync.test",
      name: "Lena Lumen",
      companyName: "Lumen & Lace Photography",
    },
    {
      id: "64f1a2b3c4d5e6f7a8b9c0d2",
      email: "vendor2@sandbox.wedsync.test",
      name: "Chris Olive",
      companyName: "Olive Branch Catering",
    },
  ],
});
