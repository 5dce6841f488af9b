// Writing a pull's result, whatever the provider: upsert the blocks seen,
// remove the ones gone (all others on a full sync, the listed ones on an
// incremental one), and store the provider's next sync token — in one
// transaction, so a crash never leaves blocks and token out of step.
import { and, eq, notInArray } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { availabilityBlocks, calendarSyncState } from "../../db/schema";
import type { AvailabilityBlock } from "../mapping/targets";

export interface AvailabilityChanges {
  connectionId: string;
  supplierId: string;
  calendarId: string;
  upserts: AvailabilityBlock[];
  /** External ids removed at the provider (incremental pulls only). */
  removals: string[];
  /** A full sync replaces the connection's blocks: every block not in `upserts` goes. */
  fullSync: boolean;
  /** Google nextSyncToken, Graph deltaLink or CalDAV sync-token; null: the next pull is a full one. */
  syncToken: string | null;
  now: Date;
}

async function upsertBlock(db: DbOrTx, connectionId: string, supplierId: string, block: AvailabilityBlock, now: Date) {
  const values = {
    supplierId,
    startsAt: block.start,
    endsAt: block.end,
    allDay: block.allDay,
    status: block.status,
    summary: block.summary ?? null,
    updatedAt: now,
  };
  await db
    .insert(availabilityBlocks)
    .values({ connectionId, externalId: block.externalId, ...values })
    .onConflictDoUpdate({ target: [availabilityBlocks.connectionId, availabilityBlocks.externalId], set: values });
}

export async function applyAvailabilityChanges(
  db: DbOrTx,
  c: AvailabilityChanges,
): Promise<{ upserted: number; deleted: number }> {
  return db.transaction(async (tx) => {
    for (const block of c.upserts) await upsertBlock(tx, c.connectionId, c.supplierId, block, c.now);
    let deleted = 0;
    if (c.fullSync) {
      const keep = c.upserts.map((b) => b.externalId);
      const gone = await tx
        .delete(availabilityBlocks)
        .where(
          and(
            eq(availabilityBlocks.connectionId, c.connectionId),
            ...(keep.length ? [notInArray(availabilityBlocks.externalId, keep)] : []),
          ),
        )
        .returning({ id: availabilityBlocks.externalId });
      deleted = gone.length;
    } else {
      for (const externalId of c.removals) {
        const gone = await tx
          .delete(availabilityBlocks)
          .where(and(eq(availabilityBlocks.connectionId, c.connectionId), eq(availabilityBlocks.externalId, externalId)))
          .returning({ id: availabilityBlocks.externalId });
        deleted += gone.length;
      }
    }
    const stamp = c.fullSync ? { lastFullSyncAt: c.now } : { lastIncrementalAt: c.now };
    const state = { calendarId: c.calendarId, syncToken: c.syncToken, ...stamp };
    await tx
      .insert(calendarSyncState)
      .values({ connectionId: c.connectionId, ...state })
      .onConflictDoUpdate({ target: calendarSyncState.connectionId, set: state });
    return { upserted: c.upserts.length, deleted };
  });
}
