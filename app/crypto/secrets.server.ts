// Secrets at rest: AES-256-GCM with a key id in every ciphertext, so keys can
// rotate (new writes use the first key; any listed key still decrypts).
import crypto from "node:crypto";

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Vault {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  encryptJson(value: unknown): string;
  decryptJson<T = unknown>(ciphertext: string): T;
  /** The key id a ciphertext was written with (to find rows needing re-encryption). */
  keyIdOf(ciphertext: string): string;
}

const FORMAT = "v1";

export function createVault(keys: EncryptionKey[]): Vault {
  const active = keys[0];
  if (!active) throw new Error("createVault needs at least one key");
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  function encrypt(plaintext: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", active!.key, iv);
    // The key id is authenticated too, so a ciphertext cannot be relabelled.
    cipher.setAAD(Buffer.from(active!.id));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, active!.id, iv.toString("base64url"), tag.toString("base64url"), ct.toString("base64url")].join(".");
  }

  function decrypt(ciphertext: string): string {
    const [format, kid, iv, tag, ct] = ciphertext.split(".");
    if (format !== FORMAT || !kid || !iv || !tag || ct === undefined) throw new Error("Not a vault ciphertext");
    const key = byId.get(kid);
    if (!key) throw new Error(`Encryption key "${kid}" is not configured (HUB_ENCRYPTION_KEYS)`);
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
  }

  return {
    encrypt,
    decrypt,
    encryptJson: (value) => encrypt(JSON.stringify(value)),
    decryptJson: <T>(c: string) => JSON.parse(decrypt(c)) as T,
    keyIdOf: (c) => c.split(".")[1] ?? "",
  };
}

/** One-way hash for bearer secrets (session ids, API tokens): high-entropy, so SHA-256 suffices. */
export function sha256(value: string): string {
  return crypto.createHash("sha256").update(value).digest("hex");
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}
