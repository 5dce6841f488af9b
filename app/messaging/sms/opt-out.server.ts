// STOP / START for SMS. Twilio forwards every inbound message to
// POST /messaging/twilio/inbound; an opt-out keyword writes a row to
// sms_opt_outs (its MessageSid dedupes a replayed webhook) and an active
// "unsubscribe" suppression for the number, which the send path already
// honours for every channel, so nothing more goes to that number (status
// suppressed) until START lifts it.
import { and, desc, eq, isNull } from "drizzle-orm";
import { smsOptOuts, suppressions } from "../../../db/schema";
import type { DbOrTx, Db } from "../../db.server";

// Twilio's default opt-out, opt-in and help keywords (matched on the whole trimmed body, any case).
const OPT_OUT = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOP ALL", "OPT OUT"]);
const OPT_IN = new Set(["START", "YES", "UNSTOP", "OPTIN", "OPT IN"]);
const HELP = new Set(["HELP", "INFO"]);

export type Keyword = { action: "opt_out" | "opt_in" | "help"; keyword: string } | null;

export function classifyKeyword(body: string): Keyword {
  const word = body
    .trim()
    .replace(/[.!]+$/, "")
    .replace(/\s+/g, " ")
    .toUpperCase();
  if (OPT_OUT.has(word)) return { action: "opt_out", keyword: word };
  if (OPT_IN.has(word)) return { action: "opt_in", keyword: word };
  if (HELP.has(word)) return { action: "help", keyword: word };
  return null;
}

export interface InboundResult {
  keyword: Keyword;
  /** False when this MessageSid was already recorded (a replayed webhook). */
  recorded: boolean;
}

/** Record an inbound SMS from `phone` (E.164). Only opt-out/opt-in keywords change anything. */
export async function recordInboundSms(db: Db, input: { phone: string; body: string; sourceId: string }): Promise<InboundResult> {
  const keyword = classifyKeyword(input.body);
  if (!keyword || keyword.action === "help") return { keyword, recorded: false };
  const action = keyword.action;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(smsOptOuts)
      .values({ phone: input.phone, keyword: keyword.keyword, action, sourceId: input.sourceId })
      .onConflictDoNothing()
      .returning({ id: smsOptOuts.id });
    if (inserted.length === 0) return { keyword, recorded: false };
    await applyLatest(tx, input.phone);
    return { keyword, recorded: true };
  });
}

/** The latest STOP/START decides; the suppression row mirrors it (one active row at most). */
async function applyLatest(tx: DbOrTx, phone: string): Promise<void> {
  const [latest] = await tx.select().from(smsOptOuts).where(eq(smsOptOuts.phone, phone)).orderBy(desc(smsOptOuts.id)).limit(1);
  if (latest?.action === "opt_out") {
    await tx
      .insert(suppressions)
      .values({ channel: "sms", address: phone, reason: "unsubscribe", provider: "twilio", detail: `Replied ${latest.keyword}` })
      .onConflictDoNothing();
  } else {
    await tx
      .update(suppressions)
      .set({ liftedAt: new Date() })
      .where(
        and(
          eq(suppressions.channel, "sms"),
          eq(suppressions.address, phone),
          eq(suppressions.reason, "unsubscribe"),
          isNull(suppressions.liftedAt),
        ),
      );
  }
}

export async function isSmsOptedOut(db: DbOrTx, phone: string): Promise<boolean> {
  const [latest] = await db
    .select({ action: smsOptOuts.action })
    .from(smsOptOuts)
    .where(eq(smsOptOuts.phone, phone))
    .orderBy(desc(smsOptOuts.id))
    .limit(1);
  return latest?.action === "opt_out";
}
