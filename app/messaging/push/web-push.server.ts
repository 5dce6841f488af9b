// Web Push through the `web-push` library: it encrypts the payload
// (aes128gcm, RFC 8291) to each browser's keys and signs the VAPID JWT
// (RFC 8292) via generateRequestDetails(); the request itself goes out with
// fetch, so the engine's AbortSignal applies and a loopback push-service
// simulator can be plain HTTP (web-push's own sender is HTTPS-only).
// A message goes to every active browser of the user; 404/410 from the push
// service means the subscription is gone, and its row is deleted.
import crypto from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import webPush from "web-push";
import { pushSubscriptions } from "../../../db/schema";
import type { Db } from "../../db.server";
import type { Vault } from "../../crypto/secrets.server";
import type { AttemptContext, MessageProvider, OutboundMessage, PushContent, SendResult } from "../types";
import { activeSubscriptionsFor, type DecryptedSubscription } from "./subscriptions.server";
import { loadVapidKeys, type VapidKeys } from "./vapid.server";
import type { HubConfig } from "../../config.server";

export interface WebPushOptions {
  db: Db;
  vault: Vault;
  vapid: VapidKeys;
  /** How long a push service keeps an undelivered message (seconds). */
  ttlSeconds?: number;
}

type One = { kind: "ok" } | { kind: "gone" } | { kind: "result"; result: SendResult };

/** RFC 8030 Topic: at most 32 base64url characters; the same for every retry of one message, so a push service replaces rather than repeats it. */
export function pushTopic(requestKey: string): string {
  return crypto.createHash("sha256").update(requestKey).digest("base64url").slice(0, 32);
}

export function createWebPushProvider(opts: WebPushOptions): MessageProvider<PushContent> {
  const ttl = opts.ttlSeconds ?? 24 * 3600;

  async function sendOne(
    sub: DecryptedSubscription,
    message: OutboundMessage<PushContent>,
    attempt: AttemptContext,
  ): Promise<One> {
    const details = webPush.generateRequestDetails(
      { endpoint: sub.endpoint, keys: sub.keys },
      JSON.stringify(message.content.payload),
      {
        vapidDetails: opts.vapid,
        TTL: ttl,
        urgency: message.critical ? "high" : "normal",
        topic: pushTopic(attempt.requestKey),
        contentEncoding: "aes128gcm",
      },
    );
    let res: Response;
    try {
      res = await fetch(details.endpoint, {
        method: details.method,
        headers: Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)])),
        body: details.body ? new Uint8Array(details.body) : undefined,
        signal: attempt.signal,
      });
    } catch (err) {
      const code =
        typeof err === "object" && err && "cause" in err && typeof err.cause === "object" && err.cause && "code" in err.cause
          ? String(err.cause.code)
          : "";
      const error = `${code || "network"}: ${err instanceof Error ? err.message : String(err)}`;
      return code === "ECONNREFUSED" || code === "ENOTFOUND"
        ? { kind: "result", result: { outcome: "failed", scope: "provider", error } }
        : { kind: "result", result: { outcome: "ambiguous", error } };
    }
    const body = (await res.text()).slice(0, 300);
    if (res.status >= 200 && res.status < 300) return { kind: "ok" };
    if (res.status === 404 || res.status === 410) return { kind: "gone" };
    const error = `push service ${res.status}: ${body}`;
    if (res.status === 429) {
      const seconds = Number(res.headers.get("retry-after"));
      return {
        kind: "result",
        result: {
          outcome: "rate_limited",
          retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : 1000,
          error,
          httpStatus: 429,
        },
      };
    }
    // 400 and 413 are about this payload; 401/403 (VAPID) and 5xx about our setup or the service.
    if (res.status === 400 || res.status === 413)
      return { kind: "result", result: { outcome: "failed", scope: "message", error, httpStatus: res.status } };
    return { kind: "result", result: { outcome: "failed", scope: "provider", error, httpStatus: res.status } };
  }

  return {
    id: "web-push",
    channel: "push",
    async send(message, attempt) {
      const subs = await activeSubscriptionsFor(opts.db, opts.vault, message.content.userId);
      if (subs.length === 0)
        return { outcome: "failed", scope: "message", error: "The recipient has no browser subscribed to notifications." };
      const outcomes = await Promise.all(subs.map((s) => sendOne(s, message, attempt)));
      const gone = subs.filter((_, i) => outcomes[i]!.kind === "gone").map((s) => s.id);
      if (gone.length) await opts.db.delete(pushSubscriptions).where(inArray(pushSubscriptions.id, gone));
      const delivered = subs.filter((_, i) => outcomes[i]!.kind === "ok");
      for (const s of delivered)
        await opts.db.update(pushSubscriptions).set({ lastUsedAt: new Date() }).where(eq(pushSubscriptions.id, s.id));
      // One browser reached is a sent message: retrying would repeat it on that browser.
      if (delivered.length) return { outcome: "accepted", detail: { browsers: delivered.length, removedExpired: gone.length } };
      const results = outcomes.flatMap((o) => (o.kind === "result" ? [o.result] : []));
      if (results.length === 0)
        return {
          outcome: "failed",
          scope: "message",
          error: `Every subscribed browser had unsubscribed (${gone.length} removed).`,
        };
      return (
        results.find((r) => r.outcome === "ambiguous") ??
        results.find((r) => r.outcome === "rate_limited") ??
        results.find((r) => r.outcome === "failed" && r.scope === "provider") ??
        results[0]!
      );
    },
  };
}

/** For app/messaging/registry.server.ts: registerProviderFactory("web-push", "push", webPushProviderFactory). */
export function webPushProviderFactory(input: {
  ctx: { db: Db; vault: Vault; config: Pick<HubConfig, "mode" | "dataDir"> };
}): MessageProvider<PushContent> | null {
  // Without VAPID keys (production not configured) push is simply not offered; email and SMS must not break.
  try {
    return createWebPushProvider({ db: input.ctx.db, vault: input.ctx.vault, vapid: loadVapidKeys(input.ctx.config) });
  } catch {
    return null;
  }
}
