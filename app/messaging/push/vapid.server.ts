// The hub's VAPID key pair (RFC 8292): browsers bind each subscription to its
// public key, so it must never change under them. Production is given it
// (WEB_PUSH_VAPID_PUBLIC_KEY / _PRIVATE_KEY / _SUBJECT); the sandbox generates
// one on first use and keeps it in the data folder like its other secrets.
import fs from "node:fs";
import path from "node:path";
import webPush from "web-push";
import { z } from "zod";
import type { HubConfig } from "../../config.server";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact the push service can reach (RFC 8292 "sub"). */
  subject: string;
}

const b64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "must be base64url")
    .refine((v) => Buffer.from(v, "base64url").length === bytes, `must decode to ${bytes} bytes`);

export const vapidKeysSchema = z.object({
  publicKey: b64url(65),
  privateKey: b64url(32),
  subject: z.string().regex(/^(mailto:|https:\/\/)/, "must start with mailto: or https://"),
});

const envSchema = z.object({
  WEB_PUSH_VAPID_PUBLIC_KEY: z.string().optional(),
  WEB_PUSH_VAPID_PRIVATE_KEY: z.string().optional(),
  WEB_PUSH_VAPID_SUBJECT: z.string().optional(),
});

const SANDBOX_FILE = "vapid-keys.json";
const DEFAULT_SUBJECT = "mailto:notifications@wedsync.invalid";
const cache = new Map<string, VapidKeys>();

export function loadVapidKeys(
  config: Pick<HubConfig, "mode" | "dataDir">,
  env: Record<string, string | undefined> = process.env,
): VapidKeys {
  const e = envSchema.parse(env);
  if (e.WEB_PUSH_VAPID_PUBLIC_KEY || e.WEB_PUSH_VAPID_PRIVATE_KEY) {
    const parsed = vapidKeysSchema.safeParse({
      publicKey: e.WEB_PUSH_VAPID_PUBLIC_KEY,
      privateKey: e.WEB_PUSH_VAPID_PRIVATE_KEY,
      subject: e.WEB_PUSH_VAPID_SUBJECT ?? DEFAULT_SUBJECT,
    });
    if (!parsed.success)
      throw new Error(
        `WEB_PUSH_VAPID_* invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      );
    return parsed.data;
  }
  if (config.mode === "production")
    throw new Error("WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY are required in production");
  const file = path.join(config.dataDir, SANDBOX_FILE);
  const cached = cache.get(file);
  if (cached) return cached;
  let keys: VapidKeys;
  if (fs.existsSync(file)) {
    keys = vapidKeysSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
  } else {
    const generated = webPush.generateVAPIDKeys();
    keys = {
      publicKey: generated.publicKey,
      privateKey: generated.privateKey,
      subject: e.WEB_PUSH_VAPID_SUBJECT ?? DEFAULT_SUBJECT,
    };
    fs.mkdirSync(config.dataDir, { recursive: true });
    // "wx": two processes starting together must not each write a different key; the loser re-reads.
    try {
      fs.writeFileSync(file, JSON.stringify(keys) + "\n", { mode: 0o600, flag: "wx" });
    } catch {
      keys = vapidKeysSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
    }
  }
  cache.set(file, keys);
  return keys;
}
