// Reading core fields, vendor fields and the event streams, with access checks.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { NotFoundError } from "../errors";
import { assertCanAccessCouple, assertCanAccessSupplier, canSeeEvent } from "./access.server";
import { coupleRoom, supplierRoom, type HubEvent, type StreamEvent } from "./events";
import type { Principal } from "./principal";
import type { CoreFieldsState, VendorFieldsState } from "./write.server";

export async function readCoreFields(db: DbOrTx, p: Principal, coupleId: string): Promise<CoreFieldsState> {
  await assertCanAccessCouple(db, p, coupleId);
  const res = await db.execute<{ version: number; fields: Record<string, unknown>; updated_at: Date }>(
    sql`select version, fields, updated_at from core_fields where couple_id = ${coupleId}`,
  );
  const row = res.rows[0];
  if (!row) throw new NotFoundError("No such couple");
  return { coupleId, version: row.version, fields: row.fields, updatedAt: new Date(row.updated_at).toISOString() };
}

/** All vendors' own fields for a couple (what the couple sees), or one vendor's. */
export async function readVendorFields(
  db: DbOrTx,
  p: Principal,
  coupleId: string,
  supplierId?: string,
): Promise<VendorFieldsState[]> {
  await assertCanAccessCouple(db, p, coupleId);
  if (p.type === "supplier" && supplierId && supplierId !== p.supplierId) throw new NotFoundError("No such supplier");
  const only = supplierId ?? (p.type === "supplier" ? p.supplierId : null);
  const res = await db.execute<{ supplier_id: string; vendor_fields: Record<string, unknown>; vendor_version: number }>(
    sql`select supplier_id, vendor_fields, vendor_version from supplier_couples
        where couple_id = ${coupleId} ${only ? sql`and supplier_id = ${only}` : sql``} order by supplier_id`,
  );
  if (only && res.rows.length === 0) throw new NotFoundError("This supplier is not connected to that couple");
  return res.rows.map((r) => ({ supplierId: r.supplier_id, coupleId, version: r.vendor_version, fields: r.vendor_fields }));
}

type EventRow = {
  id: string | number;
  couple_id: string;
  seq: string | number;
  type: HubEvent["type"];
  changed_fields: HubEvent["changedFields"];
  version: number;
  source: string;
  actor: string;
  supplier_id: string | null;
  occurred_at: Date | string;
  feed_seq?: string | number;
};

export function toHubEvent(r: EventRow): HubEvent {
  return {
    id: Number(r.id),
    coupleId: r.couple_id,
    seq: Number(r.seq),
    type: r.type,
    changedFields: r.changed_fields,
    version: r.version,
    source: r.source,
    actor: r.actor,
    supplierId: r.supplier_id,
    occurredAt: new Date(r.occurred_at).toISOString(),
  };
}

export const MAX_PAGE = 500;

/** A couple's events after `afterSeq`, in sequence order (access checked by the caller). */
export async function coupleEventsAfter(db: DbOrTx, coupleId: string, afterSeq: number, limit: number): Promise<StreamEvent[]> {
  const res = await db.execute<EventRow>(
    sql`select * from events where couple_id = ${coupleId} and seq > ${afterSeq} order by seq limit ${Math.min(limit, MAX_PAGE)}`,
  );
  return res.rows.map((r) => ({ room: coupleRoom(coupleId), seq: Number(r.seq), event: toHubEvent(r) }));
}

/** A supplier's feed after `afterSeq` (access checked by the caller). */
export async function supplierEventsAfter(
  db: DbOrTx,
  supplierId: string,
  afterSeq: number,
  limit: number,
): Promise<StreamEvent[]> {
  const res = await db.execute<EventRow>(
    sql`select e.*, f.seq as feed_seq from supplier_feed f join events e on e.id = f.event_id
        where f.supplier_id = ${supplierId} and f.seq > ${afterSeq} order by f.seq limit ${Math.min(limit, MAX_PAGE)}`,
  );
  return res.rows.map((r) => ({ room: supplierRoom(supplierId), seq: Number(r.feed_seq), event: toHubEvent(r) }));
}

export async function listCoupleEvents(db: DbOrTx, p: Principal, coupleId: string, afterSeq: number, limit: number) {
  await assertCanAccessCouple(db, p, coupleId);
  return page(await coupleEventsAfter(db, coupleId, afterSeq, limit), limit, afterSeq, p);
}

export async function listSupplierEvents(db: DbOrTx, p: Principal, supplierId: string, afterSeq: number, limit: number) {
  await assertCanAccessSupplier(db, p, supplierId);
  return page(await supplierEventsAfter(db, supplierId, afterSeq, limit), limit, afterSeq, p);
}

function page(items: StreamEvent[], limit: number, after: number, p: Principal) {
  const last = items.at(-1);
  return {
    items: items.filter((i) => canSeeEvent(p, i.event)).map((i) => ({ ...i.event, streamSeq: i.seq })),
    /** Pass as `after` to read on; equal to the request's `after` when there is nothing new. */
    next: last ? last.seq : after,
    hasMore: items.length === Math.min(limit, MAX_PAGE),
  };
}
