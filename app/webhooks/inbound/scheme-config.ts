// The inbound verification schemes as data (ids, labels, options schema):
// no Node-only imports, so console components can use it in the browser.
import { z } from "zod";

export const SCHEMES = ["standard-webhooks", "hmac-sha256", "stripe", "twilio", "google-channel", "graph-client-state"] as const;
export type SchemeId = (typeof SCHEMES)[number];

export const SCHEME_LABELS: Record<SchemeId, string> = {
  "standard-webhooks": "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
  "hmac-sha256": "HMAC-SHA256 of the raw body in a header",
  stripe: "Stripe-style (Stripe-Signature: t=…,v1=…)",
  twilio: "Twilio (X-Twilio-Signature)",
  "google-channel": "Google channel token (X-Goog-Channel-Token)",
  "graph-client-state": "Microsoft Graph clientState",
};

const headerName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{1,100}$/, "must be an HTTP header name like X-Signature");

/** A scheme and its options, as kept in webhook_endpoints.verification.scheme (never the secret). */
export const schemeConfigSchema = z.discriminatedUnion("id", [
  z.object({ id: z.literal("standard-webhooks") }),
  z.object({
    id: z.literal("hmac-sha256"),
    header: headerName.default("x-signature"),
    encoding: z.enum(["hex", "base64"]).default("hex"),
    /** What precedes the digest in the header, e.g. "sha256=" (GitHub). */
    prefix: z.string().max(40).default(""),
    /** When set, the sender also sends a Unix timestamp there and signs `<timestamp>.<body>` (so it cannot be replayed later). */
    timestampHeader: headerName.optional(),
    /** Where the sender puts its delivery id (for dedupe), if it sends one. */
    idHeader: headerName.optional(),
  }),
  z.object({ id: z.literal("stripe"), header: headerName.default("stripe-signature") }),
  z.object({ id: z.literal("twilio") }),
  z.object({ id: z.literal("google-channel") }),
  z.object({ id: z.literal("graph-client-state") }),
]);
export type SchemeConfig = z.infer<typeof schemeConfigSchema>;
