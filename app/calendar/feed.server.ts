// A vendor's private iCal feed: a secret URL any calendar app can subscribe to.
// The token is shown once at creation; only its SHA-256 and last 4 characters
// are stored (like API tokens), so a database leak does not leak feed URLs.
// The body is rendered from the same wedding events the calendar pushes use,
// and is byte-identical while nothing changes, so ETag/304 polling is cheap.
import crypto from "node:crypto";
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, DbOrTx } from "../db.server";
import { calendarFeeds, coreFields, suppliers } from "../../db/schema";
import { randomToken, sha256 } from "../crypto/secrets.server";
import { NotFoundError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { isICalRenderable, renderCalendar, type ICalEventInput } from "./ical";
import { supplierWeddingEvents } from "./wedding-events.server";

export const FEED_TOKEN_PREFIX = "whcal_";
/** whcal_ + 32 random bytes in base64url (43 characters, no padding). */
const FEED_TOKEN = /^whcal_[A-Za-z0-9_-]{43}$/;
/** How often a calendar app is told to poll (REFRESH-INTERVAL / X-PUBLISHED-TTL). */
export const FEED_TTL_SECONDS = 3600;
/** lastFetchedAt is advisory: at most one write per minute, not one per poll. */
const FETCH_STAMP_INTERVAL_MS = 60_000;

export const isFeedToken = (token: string): boolean => FEED_TOKEN.test(token);

export const feedPath = (token: string) => `/calendar/feeds/${token}.ics`;

export interface FeedSummary {
  id: string;
  tokenHint: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastFetchedAt: Date | null;
}

const feedIdSchema = z.uuid();

export async function createFeed(db: Db, supplierId: string, actor: Actor): Promise<{ token: string; feed: FeedSummary }> {
  const token = `${FEED_TOKEN_PREFIX}${randomToken(32)}`;
  return db.transaction(async (tx) => {
    const [supplier] = await tx.select({ id: suppliers.id }).from(suppliers).where(eq(suppliers.id, supplierId));
    if (!supplier) throw new NotFoundError(`No supplier ${supplierId}`);
    const [row] = await tx
      .insert(calendarFeeds)
      .values({
        supplierId,
        tokenHash: sha256(token),
        tokenHint: token.slice(-4),
        createdBy: actor.type === "user" ? actor.id : null,
      })
      .returning();
    await recordAudit(tx, actor, {
      action: "calendar_feed.create",
      entityType: "calendar_feed",
      entityId: row!.id,
      after: { supplierId, tokenHint: row!.tokenHint },
    });
    return { token, feed: toSummary(row!) };
  });
}

/** The supplier's feeds, newest first, revoked ones included (so the vendor sees what was turned off). */
export async function listFeeds(db: DbOrTx, supplierId: string): Promise<FeedSummary[]> {
  const rows = await db
    .select()
    .from(calendarFeeds)
    .where(eq(calendarFeeds.supplierId, supplierId))
    .orderBy(desc(calendarFeeds.createdAt), desc(calendarFeeds.id));
  return rows.map(toSummary);
}

/** Revokes one of the supplier's active feeds; another supplier's feed (or a revoked one) is "not found". */
export async function revokeFeed(db: Db, supplierId: string, feedId: string, actor: Actor): Promise<void> {
  const notFound = () => new NotFoundError("No such active calendar feed.");
  if (!feedIdSchema.safeParse(feedId).success) throw notFound();
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(calendarFeeds)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(calendarFeeds.id, feedId), eq(calendarFeeds.supplierId, supplierId), isNull(calendarFeeds.revokedAt)))
      .returning({ id: calendarFeeds.id, tokenHint: calendarFeeds.tokenHint });
    if (!row) throw notFound();
    await recordAudit(tx, actor, {
      action: "calendar_feed.revoke",
      entityType: "calendar_feed",
      entityId: row.id,
      before: { supplierId, tokenHint: row.tokenHint },
    });
  });
}

export interface RenderedFeed {
  body: string;
  /** Strong ETag: the body's SHA-256 (quoted). */
  etag: string;
}

/**
 * The feed for a token. Unknown, revoked and malformed tokens all throw the same
 * NotFoundError, so the answer says nothing about which tokens exist.
 */
export async function renderFeed(ctx: { db: DbOrTx }, token: string): Promise<RenderedFeed> {
  const notFound = () => new NotFoundError("No such calendar feed.");
  if (!isFeedToken(token)) throw notFound();
  const [feed] = await ctx.db
    .select({
      id: calendarFeeds.id,
      supplierId: calendarFeeds.supplierId,
      revokedAt: calendarFeeds.revokedAt,
      lastFetchedAt: calendarFeeds.lastFetchedAt,
      supplierName: suppliers.name,
    })
    .from(calendarFeeds)
    .innerJoin(suppliers, eq(suppliers.id, calendarFeeds.supplierId))
    .where(eq(calendarFeeds.tokenHash, sha256(token)));
  if (!feed || feed.revokedAt) throw notFound();

  // Events without a wedding date are skipped upstream; a body iCalendar cannot carry is left out too.
  const events = (await supplierWeddingEvents(ctx.db, feed.supplierId)).events.filter((e) => isICalRenderable(e.body));
  // Stamps come from the couple's last core-field change, not from "now", so the text is stable between polls.
  const coupleIds = [...new Set(events.map((e) => e.coupleId))];
  const changed = new Map<string, { updatedAt: Date; version: number }>();
  if (coupleIds.length) {
    const rows = await ctx.db
      .select({ coupleId: coreFields.coupleId, updatedAt: coreFields.updatedAt, version: coreFields.version })
      .from(coreFields)
      .where(inArray(coreFields.coupleId, coupleIds));
    for (const r of rows) changed.set(r.coupleId, { updatedAt: r.updatedAt, version: r.version });
  }
  const inputs: ICalEventInput[] = events.map((e) => {
    const c = changed.get(e.coupleId);
    return {
      uid: `${e.key}@hub.wedsync`,
      body: e.body,
      // iCalendar stamps have whole seconds; truncating keeps the text equal to what a client read back.
      stamp: new Date(Math.floor((c?.updatedAt.getTime() ?? 0) / 1000) * 1000),
      // Core-field versions only grow, so SEQUENCE grows whenever the couple changes.
      sequence: Math.max(0, (c?.version ?? 1) - 1),
    };
  });
  const text = renderCalendar({ name: `${feed.supplierName} · weddings`, events: inputs, ttlSeconds: FEED_TTL_SECONDS });
  // RFC 5545 §3.1: every content line ends with CRLF, the last one included (ical-generator omits that one).
  const body = text.endsWith("\r\n") ? text : `${text}\r\n`;

  if (!feed.lastFetchedAt || Date.now() - feed.lastFetchedAt.getTime() > FETCH_STAMP_INTERVAL_MS) {
    await ctx.db
      .update(calendarFeeds)
      .set({ lastFetchedAt: sql`now()` })
      .where(eq(calendarFeeds.id, feed.id));
  }
  return { body, etag: `"${crypto.createHash("sha256").update(body).digest("base64url")}"` };
}

function toSummary(row: typeof calendarFeeds.$inferSelect): FeedSummary {
  return {
    id: row.id,
    tokenHint: row.tokenHint,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    lastFetchedAt: row.lastFetchedAt,
  };
}
