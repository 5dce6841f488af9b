// X-Twilio-Signature exactly as Twilio computes it for form-encoded webhooks:
// the full URL, then every POST parameter name+value in name order, HMAC-SHA1
// with the account's auth token, base64. Written independently of the twilio
// SDK so the hub's use of twilio.validateRequest is tested against a second
// implementation, not against itself.
import crypto from "node:crypto";

export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return crypto.createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}
