// Recipient preferences: which channels and which kinds of message someone
// wants, and quiet hours in their own time zone. decideDelivery() is pure
// (prefs, message, now) -> send now / defer until / skip, so the send path
// and the tests share one rule. Critical wedding-day messages override quiet
// hours and muted kinds (as sendMessage does), never a channel turned off.
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { recipientPreferences } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import { channelSchema, type Channel } from "./types";
import { isTimeZone, wallClock, zonedToInstant } from "../time/zoned";

export { isTimeZone, zonedToInstant };

export interface Preferences {
  channels: Channel[];
  mutedKinds: string[];
  /** "HH:MM" local; both null = no quiet hours. */
  quietStart: string | null;
  quietEnd: string | null;
  timeZone: string;
}

export type DeliveryDecision =
  { action: "send" } | { action: "defer"; until: Date; reason: string } | { action: "skip"; reason: string };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The form/API boundary: clear messages per field. */
export const preferencesInputSchema = z
  .object({
    channels: z.array(channelSchema).max(3),
    mutedKinds: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "is not a message kind")).max(50),
    quietStart: z.string().regex(HHMM, "Quiet hours start must be a time like 22:00").nullable(),
    quietEnd: z.string().regex(HHMM, "Quiet hours end must be a time like 07:30").nullable(),
    timeZone: z.string().refine(isTimeZone, "Time zone must be an IANA zone such as Europe/London"),
  })
  .refine((p) => (p.quietStart === null) === (p.quietEnd === null), {
    message: "Give both a start and an end for quiet hours, or neither",
    path: ["quietEnd"],
  })
  .refine((p) => p.quietStart === null || p.quietStart !== p.quietEnd, {
    message: "Quiet hours cannot start and end at the same time",
    path: ["quietEnd"],
  });

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Pure: what to do with `message` for a recipient with `prefs` (null = no preferences saved) at `now`. */
export function decideDelivery(
  prefs: Preferences | null,
  message: { channel: Channel; kind: string; critical: boolean },
  now: Date,
): DeliveryDecision {
  if (!prefs) return { action: "send" };
  if (!prefs.channels.includes(message.channel))
    return { action: "skip", reason: `The recipient turned off ${message.channel} messages.` };
  if (!message.critical && prefs.mutedKinds.includes(message.kind))
    return { action: "skip", reason: `The recipient muted "${message.kind}" messages.` };
  if (!prefs.quietStart || !prefs.quietEnd || prefs.quietStart === prefs.quietEnd) return { action: "send" };
  const tz = isTimeZone(prefs.timeZone) ? prefs.timeZone : "UTC";
  const local = wallClock(now.getTime(), tz);
  const minute = local.h * 60 + local.min;
  const start = minutesOf(prefs.quietStart);
  const end = minutesOf(prefs.quietEnd);
  // start < end: same-day window (13:00–14:00); start > end: it spans midnight (22:00–07:00).
  const inQuiet = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inQuiet) return { action: "send" };
  if (message.critical) return { action: "send" };
  // The window ends today, unless it spans midnight and we are in its evening part.
  const endsTomorrow = start > end && minute >= start;
  const day = new Date(Date.UTC(local.y, local.m - 1, local.d + (endsTomorrow ? 1 : 0)));
  const until = zonedToInstant(
    { y: day.getUTCFullYear(), m: day.getUTCMonth() + 1, d: day.getUTCDate(), h: Math.floor(end / 60), min: end % 60 },
    tz,
  );
  return { action: "defer", until, reason: `Quiet hours ${prefs.quietStart}–${prefs.quietEnd} (${tz})` };
}

// ------------------------------------------------------------ storage

export function preferencesFromRow(row: typeof recipientPreferences.$inferSelect): Preferences {
  return {
    channels: row.channels.filter((c): c is Channel => channelSchema.safeParse(c).success),
    mutedKinds: row.mutedKinds,
    quietStart: row.quietStart,
    quietEnd: row.quietEnd,
    timeZone: row.timeZone,
  };
}

/** `recipient` normalised like messages.recipient (lowercased email, E.164, or user id for push). */
export async function getPreferences(db: DbOrTx, recipient: string): Promise<Preferences | null> {
  const [row] = await db.select().from(recipientPreferences).where(eq(recipientPreferences.recipient, recipient));
  return row ? preferencesFromRow(row) : null;
}

export async function preferencesForUser(db: DbOrTx, userId: string): Promise<{ recipient: string; prefs: Preferences }[]> {
  const rows = await db.select().from(recipientPreferences).where(eq(recipientPreferences.userId, userId));
  return rows.map((r) => ({ recipient: r.recipient, prefs: preferencesFromRow(r) }));
}

/** One person's settings apply to each of their addresses (email, phone, user id for push). */
export async function savePreferences(
  db: DbOrTx,
  userId: string | null,
  recipients: string[],
  prefs: Preferences,
): Promise<void> {
  const unique = [...new Set(recipients)];
  if (!unique.length) return;
  const values = { ...prefs, userId, updatedAt: new Date() };
  for (const recipient of unique) {
    await db
      .insert(recipientPreferences)
      .values({ recipient, ...values })
      .onConflictDoUpdate({ target: recipientPreferences.recipient, set: values });
  }
}

export async function deletePreferences(db: DbOrTx, recipients: string[]): Promise<void> {
  if (recipients.length) await db.delete(recipientPreferences).where(inArray(recipientPreferences.recipient, recipients));
}
