// The one write path for core fields and vendor fields. In ONE transaction:
// the new version, its field-level diff, one event with the couple's next
// gapless sequence, an entry in each connected supplier's feed, the audit
// record, the jobs the change causes, and a NOTIFY that PostgreSQL delivers
// only on commit (so the realtime push can never announce an uncommitted change).
import { sql } from "drizzle-orm";
import type { Db, DbOrTx, Tx } from "../db.server";
import { coreFieldVersions, events } from "../../db/schema";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { applyPatch, CORE_FIELDS, diffFields, validatePatch, VENDOR_FIELDS, type FieldSet } from "./schema";
import type { HubEvent } from "./events";
import { sourceFor, writerFor, type Principal, type Source } from "./principal";
import { assertCanAccessCouple, assertCanWriteVendorFields } from "./access.server";
import { enqueueEventConsumers } from "./consumers.server";
// Side effect: registers the calendar consumer in every process that writes.
import "../calendar/consumers.server";
// Side effect: registers the outbound webhook fan-out (deliveries written with the event).
import "../webhooks/outbound/fanout.server";
import "../messaging/consumers.server";

export const EVENTS_CHANNEL = "hub_events";

export interface CoreFieldsState {
  coupleId: string;
  version: number;
  fields: Record<string, unknown>;
  updatedAt: string;
}

export interface WriteResult<T> {
  state: T;
  /** Null when the write changed nothing (no event, no version). */
  event: HubEvent | null;
}

export interface WriteOptions {
  /** Defaults from the principal; imports and webhooks pass their own. */
  source?: Source;
}

export async function updateCoreFields(
  // A Tx joins the caller's transaction (a savepoint): an import commits a page's writes together.
  db: DbOrTx,
  principal: Principal,
  input: { coupleId: string; patch: unknown; expectedVersion: number | "current" },
  opts: WriteOptions = {},
): Promise<WriteResult<CoreFieldsState>> {
  const valid = checkPatch(CORE_FIELDS, input.patch, principal);
  return db.transaction(async (tx) => {
    await assertCanAccessCouple(tx, principal, input.coupleId);
    const current = await lockCoreFields(tx, input.coupleId);
    // "current": apply to whatever version is there (jobs applying an import or webhook; the row lock serialises them).
    if (input.expectedVersion !== "current" && current.version !== input.expectedVersion) {
      throw new ConflictError(
        `These core fields were changed by someone else: you sent version ${input.expectedVersion}, the current version is ${current.version}. Reload them, reapply your change and send version ${current.version}.`,
        { currentVersion: current.version },
      );
    }
    const diff = diffFields(current.fields, valid);
    if (Object.keys(diff).length === 0) return { state: toState(input.coupleId, current), event: null };

    const fields = applyPatch(current.fields, valid);
    const version = current.version + 1;
    const seq = current.lastSeq + 1;
    const updated = await tx.execute<{ updated_at: Date }>(
      sql`update core_fields set version = ${version}, fields = ${JSON.stringify(fields)}::jsonb, last_seq = ${seq}, updated_at = now()
          where couple_id = ${input.coupleId} returning updated_at`,
    );
    const source = opts.source ?? sourceFor(principal);
    await tx
      .insert(coreFieldVersions)
      .values({ coupleId: input.coupleId, version, fields, diff, source, actor: principal.label });
    const event = await appendEvent(tx, {
      coupleId: input.coupleId,
      seq,
      type: "core_fields.updated",
      changedFields: diff,
      version,
      source,
      actor: principal.label,
      supplierId: null,
    });
    await recordAudit(tx, auditActor(principal), {
      action: "core_fields.update",
      entityType: "couple",
      entityId: input.coupleId,
      before: Object.fromEntries(Object.entries(diff).map(([k, d]) => [k, d.old])),
      after: Object.fromEntries(Object.entries(diff).map(([k, d]) => [k, d.new])),
    });
    return {
      state: { coupleId: input.coupleId, version, fields, updatedAt: new Date(updated.rows[0]!.updated_at).toISOString() },
      event,
    };
  });
}

export interface VendorFieldsState {
  supplierId: string;
  coupleId: string;
  version: number;
  fields: Record<string, unknown>;
}

export async function updateVendorFields(
  db: Db,
  principal: Principal,
  input: { supplierId: string; coupleId: string; patch: unknown; expectedVersion: number },
  opts: WriteOptions = {},
): Promise<WriteResult<VendorFieldsState>> {
  const valid = checkPatch(VENDOR_FIELDS, input.patch, principal);
  return db.transaction(async (tx) => {
    assertCanWriteVendorFields(principal, input.supplierId);
    // Lock order everywhere: the couple's core_fields row, then supplier rows.
    const couple = await lockCoreFields(tx, input.coupleId);
    const link = await tx.execute<{ vendor_fields: Record<string, unknown>; vendor_version: number }>(
      sql`select vendor_fields, vendor_version from supplier_couples
          where supplier_id = ${input.supplierId} and couple_id = ${input.coupleId} for update`,
    );
    const row = link.rows[0];
    if (!row) throw new NotFoundError("This supplier is not connected to that couple");
    if (row.vendor_version !== input.expectedVersion) {
      throw new ConflictError(
        `These vendor fields were changed by someone else: you sent version ${input.expectedVersion}, the current version is ${row.vendor_version}. Reload them and send version ${row.vendor_version}.`,
        { currentVersion: row.vendor_version },
      );
    }
    const state = (version: number, fields: Record<string, unknown>): VendorFieldsState => ({
      supplierId: input.supplierId,
      coupleId: input.coupleId,
      version,
      fields,
    });
    const diff = diffFields(row.vendor_fields, valid);
    if (Object.keys(diff).length === 0) return { state: state(row.vendor_version, row.vendor_fields), event: null };

    const fields = applyPatch(row.vendor_fields, valid);
    const version = row.vendor_version + 1;
    const seq = couple.lastSeq + 1;
    await tx.execute(
      sql`update supplier_couples set vendor_fields = ${JSON.stringify(fields)}::jsonb, vendor_version = ${version}
          where supplier_id = ${input.supplierId} and couple_id = ${input.coupleId}`,
    );
    await tx.execute(sql`update core_fields set last_seq = ${seq} where couple_id = ${input.coupleId}`);
    const event = await appendEvent(tx, {
      coupleId: input.coupleId,
      seq,
      type: "vendor_fields.updated",
      changedFields: diff,
      version,
      source: opts.source ?? sourceFor(principal),
      actor: principal.label,
      supplierId: input.supplierId,
    });
    await recordAudit(tx, auditActor(principal), {
      action: "vendor_fields.update",
      entityType: "supplier_couple",
      entityId: `${input.supplierId}/${input.coupleId}`,
      before: Object.fromEntries(Object.entries(diff).map(([k, d]) => [k, d.old])),
      after: Object.fromEntries(Object.entries(diff).map(([k, d]) => [k, d.new])),
    });
    return { state: state(version, fields), event };
  });
}

function checkPatch(set: FieldSet, patch: unknown, principal: Principal): Record<string, unknown> {
  const checked = validatePatch(set, patch, writerFor(principal));
  if (checked.ok) return checked.values;
  const { fields, forbidden } = checked.problems;
  if (Object.keys(fields).length) throw new ValidationError("Some fields are unknown or invalid; nothing was changed.", fields);
  throw new ForbiddenError(
    `You may not change ${forbidden.join(", ")}: ${writerFor(principal)} writers cannot write these fields.`,
  );
}

async function lockCoreFields(tx: Tx, coupleId: string) {
  const res = await tx.execute<{ version: number; fields: Record<string, unknown>; last_seq: string | number; updated_at: Date }>(
    sql`select version, fields, last_seq, updated_at from core_fields where couple_id = ${coupleId} for update`,
  );
  const row = res.rows[0];
  if (!row) throw new NotFoundError("No such couple");
  return { version: row.version, fields: row.fields, lastSeq: Number(row.last_seq), updatedAt: row.updated_at };
}

function toState(coupleId: string, c: { version: number; fields: Record<string, unknown>; updatedAt: Date }): CoreFieldsState {
  return { coupleId, version: c.version, fields: c.fields, updatedAt: new Date(c.updatedAt).toISOString() };
}

/**
 * Insert the event, extend each connected supplier's feed (rows locked in id
 * order, so concurrent writers never deadlock), queue its consumers, and NOTIFY.
 */
async function appendEvent(tx: Tx, e: Omit<HubEvent, "id" | "occurredAt">): Promise<HubEvent> {
  const [row] = await tx
    .insert(events)
    .values({
      coupleId: e.coupleId,
      seq: e.seq,
      type: e.type,
      changedFields: e.changedFields,
      version: e.version,
      source: e.source,
      actor: e.actor,
      supplierId: e.supplierId,
    })
    .returning({ id: events.id, occurredAt: events.occurredAt });
  const event: HubEvent = { ...e, id: row!.id, occurredAt: row!.occurredAt.toISOString() };
  const feed = await tx.execute<{ supplier_id: string; seq: string | number }>(sql`
    with locked as (
      select id from suppliers
      where id in (select supplier_id from supplier_couples where couple_id = ${e.coupleId})
        -- A vendor's own fields are the couple's and that vendor's business, not the other vendors'.
        and (${e.supplierId}::uuid is null or id = ${e.supplierId}::uuid)
      order by id for update
    ), bumped as (
      update suppliers s set last_feed_seq = s.last_feed_seq + 1 from locked where s.id = locked.id
      returning s.id, s.last_feed_seq
    )
    insert into supplier_feed (supplier_id, seq, event_id)
    select id, last_feed_seq, ${event.id} from bumped
    returning supplier_id, seq`);
  const feeds = Object.fromEntries(feed.rows.map((r) => [r.supplier_id, Number(r.seq)]));
  await enqueueEventConsumers(tx, event);
  await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${notificationPayload(event, feeds)})`);
  return event;
}

/** NOTIFY payloads are capped at 8000 bytes: send the whole event when it fits, else just its id. */
export function notificationPayload(event: HubEvent, feeds: Record<string, number>): string {
  const full = JSON.stringify({ event, feeds });
  return Buffer.byteLength(full) < 7900 ? full : JSON.stringify({ id: event.id });
}

function auditActor(p: Principal): Actor {
  if (p.via === "system") return { type: "system", label: p.label };
  return { type: p.via === "token" ? "api_token" : "user", id: p.id, label: p.label };
}
