// Standard Webhooks signing (https://www.standardwebhooks.com): the secret is
// `whsec_` + base64 of random bytes; the signature is base64(HMAC-SHA256(key =
// the decoded bytes, `${id}.${timestamp}.${body}`)), sent as `v1,<sig>`, several
// separated by spaces (rotation overlap: old and new).
import crypto from "node:crypto";

const PREFIX = "whsec_";

export function generateSecret(): string {
  return PREFIX + crypto.randomBytes(32).toString("base64");
}

export function isWebhookSecret(value: string): boolean {
  if (!value.startsWith(PREFIX)) return false;
  const bytes = Buffer.from(value.slice(PREFIX.length), "base64");
  return bytes.length >= 24 && bytes.length <= 64;
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
  return crypto.createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
}

/** The three Standard Webhooks headers for one attempt, signed with every given secret (newest first). */
export function signedHeaders(secrets: string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": secrets.map((s) => `v1,${sign(s, id, timestampSeconds, body)}`).join(" "),
  };
}
