// Database-backed sessions: revocable, expiring, one row per sign-in.
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { sessions, users } from "../../db/schema";
import { randomToken, sha256 } from "../crypto/secrets.server";
import { toUser, type User } from "./users.server";

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export async function createSession(
  db: DbOrTx,
  userId: string,
  meta: { ip?: string; userAgent?: string } = {},
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken(32);
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(sessions).values({
    idHash: sha256(token),
    userId,
    expiresAt,
    ip: meta.ip ?? null,
    userAgent: meta.userAgent?.slice(0, 300) ?? null,
  });
  return { token, expiresAt };
}

/** The signed-in user for a session token, or null when unknown, expired, revoked or disabled. */
export async function userForSession(db: DbOrTx, token: string): Promise<(User & { sessionHash: string }) | null> {
  const idHash = sha256(token);
  const [row] = await db
    .select({ user: users, idHash: sessions.idHash })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(eq(sessions.idHash, idHash), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`), isNull(users.disabledAt)),
    );
  return row ? { ...toUser(row.user), sessionHash: row.idHash } : null;
}

export async function revokeSession(db: DbOrTx, token: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(eq(sessions.idHash, sha256(token)));
}

export async function revokeUserSessions(db: DbOrTx, userId: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
}
