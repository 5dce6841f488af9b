// Recipient normalisation per channel: the same person is the same string in
// messages, suppressions and preferences. SMS registers an E.164 normaliser.
import { z } from "zod";
import { ValidationError } from "../errors";
import type { Channel } from "./types";

type Normalizer = (raw: string) => string | null;

const normalizers = new Map<Channel, Normalizer>([
  [
    "email",
    (raw) => {
      const v = raw.trim().toLowerCase();
      return z.email().safeParse(v).success ? v : null;
    },
  ],
  ["sms", (raw) => (/^\+[1-9]\d{6,14}$/.test(raw.trim()) ? raw.trim() : null)],
  ["push", (raw) => (z.uuid().safeParse(raw.trim()).success ? raw.trim().toLowerCase() : null)],
]);

export function registerRecipientNormalizer(channel: Channel, fn: Normalizer): void {
  normalizers.set(channel, fn);
}

export function normalizeRecipient(channel: Channel, raw: string): string {
  const v = normalizers.get(channel)?.(raw) ?? null;
  if (!v)
    throw new ValidationError(`"${raw}" is not a valid ${channel} recipient`, {
      recipients: [`not a valid ${channel} recipient`],
    });
  return v;
}
