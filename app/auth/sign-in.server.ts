// Email + password sign-in with throttling kept in PostgreSQL, so every web
// process sees the same counts. Errors never say whether the email exists.
import { and, count, eq, gt, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { loginAttempts } from "../../db/schema";
import { RateLimitedError, UnauthorizedError } from "../errors";
import { dummyPasswordHash, verifyPassword } from "./passwords.server";
import { findUserByEmail, type User } from "./users.server";
import { createSession } from "./sessions.server";
import { recordAudit } from "../audit/audit.server";

export const THROTTLE_WINDOW_MINUTES = 15;
/** Failures per email (any IP) before further attempts are refused for the window. */
export const MAX_FAILURES_PER_EMAIL = 5;
/** Failures per IP (any email), to slow credential stuffing. */
export const MAX_FAILURES_PER_IP = 30;

export const GENERIC_SIGN_IN_ERROR = "That email and password do not match an account. Check both and try again.";

export async function signIn(
  db: DbOrTx,
  input: { email: string; password: string; ip: string; userAgent?: string },
): Promise<{ user: User; token: string; expiresAt: Date }> {
  const emailKey = input.email.trim().toLowerCase();
  await assertNotThrottled(db, emailKey, input.ip);

  const user = await findUserByEmail(db, emailKey);
  const ok = user
    ? await verifyPassword(user.passwordHash, input.password)
    : (await verifyPassword(await dummyPasswordHash(), input.password), false);

  if (!user || !ok || user.disabled) {
    await db.insert(loginAttempts).values({ emailKey, ip: input.ip, succeeded: false });
    throw new UnauthorizedError(GENERIC_SIGN_IN_ERROR);
  }
  await db.insert(loginAttempts).values({ emailKey, ip: input.ip, succeeded: true });
  const session = await createSession(db, user.id, { ip: input.ip, userAgent: input.userAgent });
  await recordAudit(
    db,
    { type: "user", id: user.id, label: user.email },
    { action: "session.sign_in", entityType: "user", entityId: user.id },
  );
  const { passwordHash: _hash, disabled: _disabled, ...publicUser } = user;
  return { user: publicUser, ...session };
}

async function assertNotThrottled(db: DbOrTx, emailKey: string, ip: string): Promise<void> {
  const since = sql`now() - make_interval(mins => ${THROTTLE_WINDOW_MINUTES})`;
  const [byEmail] = await db
    .select({ n: count() })
    .from(loginAttempts)
    .where(and(eq(loginAttempts.emailKey, emailKey), eq(loginAttempts.succeeded, false), gt(loginAttempts.at, since)));
  const [byIp] = await db
    .select({ n: count() })
    .from(loginAttempts)
    .where(and(eq(loginAttempts.ip, ip), eq(loginAttempts.succeeded, false), gt(loginAttempts.at, since)));
  if ((byEmail?.n ?? 0) >= MAX_FAILURES_PER_EMAIL || (byIp?.n ?? 0) >= MAX_FAILURES_PER_IP) {
    throw new RateLimitedError(
      `Too many failed sign-in attempts. Wait ${THROTTLE_WINDOW_MINUTES} minutes and try again, or ask an admin to reset your password.`,
      THROTTLE_WINDOW_MINUTES * 60,
    );
  }
}
