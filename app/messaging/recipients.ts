// Recipient normalisation per channel: the same person is the same string in
// messages, suppressions and preferences (lowercased email, E.164 phone
// number, push user id), so a STOP or a bounce matches however the address
// was typed.
import { z } from "zod";
import { ValidationError } from "../errors";
import { normalizePhone } from "./sms/phone";
import type { Channel } from "./types";

type Normalized = { ok: true; value: string } | { ok: false; error: string };

function normalize(channel: Channel, raw: string, phoneRegion?: string): Normalized {
  const v = raw.trim();
  switch (channel) {
    case "email": {
      const email = v.toLowerCase();
      return z.email().safeParse(email).success
        ? { ok: true, value: email }
        : { ok: false, error: `"${raw}" is not a valid email address.` };
    }
    case "sms": {
      const phone = normalizePhone(v, phoneRegion);
      return phone.ok ? { ok: true, value: phone.e164 } : { ok: false, error: phone.error };
    }
    case "push":
      return z.uuid().safeParse(v).success
        ? { ok: true, value: v.toLowerCase() }
        : { ok: false, error: `"${raw}" is not a user id (push messages go to a user's browsers).` };
  }
}

/** `phoneRegion` (ISO 3166 alpha-2) reads national numbers such as "07700 900123"; "+…" numbers keep their own. */
export function normalizeRecipient(channel: Channel, raw: string, phoneRegion?: string): string {
  const r = normalize(channel, raw, phoneRegion);
  if (!r.ok) throw new ValidationError(r.error, { recipients: [r.error] });
  return r.value;
}
