// Fan-out: every committed event that an active outbound endpoint subscribes to
// (type filter) and may see (a supplier endpoint: couples connected to its
// supplier, and canSeeEvent) becomes one delivery per endpoint, written and
// queued in the event's own transaction, so a change never lacks its webhooks
// and a rolled-back one never sends any.
import { sql } from "drizzle-orm";
import type { Tx } from "../../db.server";
import type { HubEvent } from "../../core-fields/events";
import { canSeeEvent } from "../../core-fields/access.server";
import { registerEventConsumer } from "../../core-fields/consumers.server";
import { enqueueDeliveryQueues } from "./queue.server";

/** The JSON body receivers get, in the Standard Webhooks shape ({ type, timestamp, data }). */
export function deliveryBody(event: HubEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt,
    data: {
      eventId: event.id,
      coupleId: event.coupleId,
      seq: event.seq,
      version: event.version,
      changedFields: event.changedFields,
      source: event.source,
      supplierId: event.supplierId,
    },
  });
}

export async function fanOutEvent(tx: Tx, event: HubEvent): Promise<number> {
  const candidates = await tx.execute<{ id: string; supplier_id: string | null }>(sql`
    select e.id, e.supplier_id from webhook_endpoints e
    where e.direction = 'out' and e.status = 'active'
      and (cardinality(e.event_types) = 0 or ${event.type} = any(e.event_types))
      and (e.supplier_id is null or exists (
        select 1 from supplier_couples sc where sc.supplier_id = e.supplier_id and sc.couple_id = ${event.coupleId}))`);
  const targets = candidates.rows.filter(
    (r) =>
      r.supplier_id === null ||
      canSeeEvent({ id: r.id, label: "webhook", via: "system", type: "supplier", supplierId: r.supplier_id }, event),
  );
  if (targets.length === 0) return 0;
  const body = deliveryBody(event);
  // external_id = the event, so the unique (endpoint, external_id) index makes a second fan-out of one event a no-op.
  const inserted = await tx.execute<{ endpoint_id: string }>(sql`
    insert into webhook_deliveries (endpoint_id, external_id, event_id, event_type, couple_id, seq, status, body)
    select t.id, ${`event:${event.id}`}, ${event.id}, ${event.type}, ${event.coupleId}, ${event.seq}, 'pending', ${body}
    from unnest(${`{${targets.map((t) => t.id).join(",")}}`}::uuid[]) as t(id)
    on conflict (endpoint_id, external_id) do nothing
    returning endpoint_id`);
  await enqueueDeliveryQueues(
    tx,
    inserted.rows.map((r) => r.endpoint_id),
    event.coupleId,
  );
  return inserted.rows.length;
}

registerEventConsumer(async (tx, event) => {
  await fanOutEvent(tx, event);
});
