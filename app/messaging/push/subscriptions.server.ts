// A vendor's browsers that asked for push: the PushSubscription JSON a
// browser hands out (endpoint + p256dh + auth). The two keys are what a
// payload is encrypted to, so they are vault-encrypted at rest; the endpoint
// is unique per browser profile and is the row's natural key.
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { pushSubscriptions } from "../../../db/schema";
import type { DbOrTx } from "../../db.server";
import type { Vault } from "../../crypto/secrets.server";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const b64urlBytes = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `${what} must be base64url`)
    .refine((v) => Buffer.from(v, "base64url").length === bytes, `${what} must be ${bytes} bytes`);

/** What PushSubscription.toJSON() gives, as posted by the vendor page. */
export const pushSubscriptionInputSchema = z.object({
  endpoint: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    // Real push services are HTTPS; plain HTTP only for a simulator on this machine.
    .refine((u) => u.startsWith("https://") || LOOPBACK.has(new URL(u).hostname), "endpoint must be an https URL"),
  keys: z.object({
    p256dh: b64urlBytes(65, "keys.p256dh"),
    auth: b64urlBytes(16, "keys.auth"),
  }),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionInputSchema>;

export async function savePushSubscription(
  db: DbOrTx,
  vault: Vault,
  userId: string,
  input: PushSubscriptionInput,
  userAgent: string | null,
): Promise<{ id: string }> {
  const values = {
    userId,
    endpoint: input.endpoint,
    p256dhEnc: vault.encrypt(input.keys.p256dh),
    authEnc: vault.encrypt(input.keys.auth),
    userAgent: userAgent?.slice(0, 300) ?? null,
    status: "active" as const,
  };
  // Same browser again (re-subscribe, or another vendor signed in on it): the endpoint now belongs to this user.
  const [row] = await db
    .insert(pushSubscriptions)
    .values(values)
    .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: values })
    .returning({ id: pushSubscriptions.id });
  return { id: row!.id };
}

export async function removePushSubscription(db: DbOrTx, userId: string, endpoint: string): Promise<boolean> {
  const gone = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)))
    .returning({ id: pushSubscriptions.id });
  return gone.length > 0;
}

export interface PushSubscriptionSummary {
  id: string;
  endpointHost: string;
  userAgent: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** For the vendor page: no keys, and only the push service's host of the endpoint. */
export async function listPushSubscriptions(
  db: DbOrTx,
  userId: string,
): Promise<(PushSubscriptionSummary & { endpoint: string })[]> {
  const rows = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId));
  return rows.map((r) => ({
    id: r.id,
    endpoint: r.endpoint,
    endpointHost: new URL(r.endpoint).host,
    userAgent: r.userAgent,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
  }));
}

export interface DecryptedSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export async function activeSubscriptionsFor(db: DbOrTx, vault: Vault, userId: string): Promise<DecryptedSubscription[]> {
  const rows = await db
    .select()
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.status, "active")));
  return rows.map((r) => ({
    id: r.id,
    endpoint: r.endpoint,
    keys: { p256dh: vault.decrypt(r.p256dhEnc), auth: vault.decrypt(r.authEnc) },
  }));
}
