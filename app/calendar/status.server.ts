// What the console shows per calendar connection (the calendar chosen, last
// push and pull, events the hub keeps there, busy blocks pulled, last error)
// and "sync now": a sync job queued at once, audited.
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { availabilityBlocks, calendarChannels, calendarEvents, calendarSyncState, connections, suppliers } from "../../db/schema";
import { NotFoundError, ValidationError } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.server";
import { findConnector } from "../connectors/catalog";
import { calendarConnectorIds } from "./registry.server";
import { enqueueCalendarSync } from "./consumers.server";
import { onDisconnectChoice, type OnDisconnect } from "./disconnect.server";

export interface CalendarSyncStatus {
  connectionId: string;
  supplierId: string;
  supplierName: string;
  connectorId: string;
  connectorName: string;
  accountLabel: string | null;
  status: "active" | "needs_reconnect" | "disconnected";
  /** The calendar the vendor chose; "primary" (the account's main calendar) unless set. */
  calendarId: string;
  onDisconnect: OnDisconnect;
  eventsPushed: number;
  availabilityBlocks: number;
  lastPushAt: Date | null;
  lastPushResult: Record<string, number> | null;
  lastPullAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** A push-notification channel (Google watch / Graph subscription) is live until then. */
  channelExpiresAt: Date | null;
  /** A sync is waiting in the queue (or running). */
  syncQueued: boolean;
}

const latest = (a: Date | null, b: Date | null) => (!a ? b : !b ? a : a > b ? a : b);

export async function listCalendarSyncStatus(db: DbOrTx, opts: { supplierId?: string } = {}): Promise<CalendarSyncStatus[]> {
  const rows = await db
    .select({ conn: connections, supplierName: suppliers.name, state: calendarSyncState })
    .from(connections)
    .innerJoin(suppliers, eq(suppliers.id, connections.supplierId))
    .leftJoin(calendarSyncState, eq(calendarSyncState.connectionId, connections.id))
    .where(
      and(
        inArray(connections.connectorId, calendarConnectorIds()),
        sql`${connections.status} <> 'disconnected'`,
        opts.supplierId ? eq(connections.supplierId, opts.supplierId) : undefined,
      ),
    )
    .orderBy(desc(connections.createdAt));
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.conn.id);
  const [events, blocks, channels, queued] = await Promise.all([
    db
      .select({ id: calendarEvents.connectionId, n: sql<number>`count(*)::int` })
      .from(calendarEvents)
      .where(and(inArray(calendarEvents.connectionId, ids), eq(calendarEvents.status, "active")))
      .groupBy(calendarEvents.connectionId),
    db
      .select({ id: availabilityBlocks.connectionId, n: sql<number>`count(*)::int` })
      .from(availabilityBlocks)
      .where(inArray(availabilityBlocks.connectionId, ids))
      .groupBy(availabilityBlocks.connectionId),
    db
      .select({ id: calendarChannels.connectionId, expiresAt: sql<Date>`max(${calendarChannels.expiresAt})` })
      .from(calendarChannels)
      .where(and(inArray(calendarChannels.connectionId, ids), eq(calendarChannels.status, "active")))
      .groupBy(calendarChannels.connectionId),
    db.execute<{ key: string }>(
      sql`select key from graphile_worker.jobs where key = any(${sql.param(ids.map((id) => `calendar-sync:${id}`))}::text[])`,
    ),
  ]);
  const count = (list: { id: string; n: number }[], id: string) => list.find((r) => r.id === id)?.n ?? 0;
  const queuedKeys = new Set(queued.rows.map((r) => r.key));
  return rows.map(({ conn, supplierName, state }) => {
    const channel = channels.find((c) => c.id === conn.id);
    return {
      connectionId: conn.id,
      supplierId: conn.supplierId,
      supplierName,
      connectorId: conn.connectorId,
      connectorName: findConnector(conn.connectorId)?.name ?? conn.connectorId,
      accountLabel: conn.accountLabel,
      status: conn.status,
      calendarId: typeof conn.settings.calendarId === "string" ? conn.settings.calendarId : "primary",
      onDisconnect: onDisconnectChoice(conn.settings),
      eventsPushed: count(events, conn.id),
      availabilityBlocks: count(blocks, conn.id),
      lastPushAt: state?.lastPushAt ?? null,
      lastPushResult: state?.lastPushResult ?? null,
      lastPullAt: latest(state?.lastFullSyncAt ?? null, state?.lastIncrementalAt ?? null),
      lastError: state?.lastError ?? conn.lastError,
      lastErrorAt: state?.lastErrorAt ?? null,
      channelExpiresAt: channel ? new Date(channel.expiresAt) : null,
      syncQueued: queuedKeys.has(`calendar-sync:${conn.id}`),
    };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function calendarConnection(db: DbOrTx, connectionId: string, supplierId?: string) {
  if (!UUID.test(connectionId)) throw new NotFoundError("No such calendar connection");
  const [conn] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, connectionId), supplierId ? eq(connections.supplierId, supplierId) : undefined));
  if (!conn || !calendarConnectorIds().includes(conn.connectorId) || conn.status === "disconnected")
    throw new NotFoundError("No such calendar connection");
  return conn;
}

/** "Sync now": queue the connection's sync to run at once (replacing a pending one), audited, in one transaction. */
export async function requestCalendarSync(
  db: DbOrTx,
  connectionId: string,
  actor: Actor,
  opts: { supplierId?: string } = {},
): Promise<void> {
  const conn = await calendarConnection(db, connectionId, opts.supplierId);
  if (conn.status !== "active")
    throw new ValidationError("This connection needs the vendor to reconnect before it can sync.", {
      connectionId: ["needs reconnect"],
    });
  await db.transaction(async (tx) => {
    await enqueueCalendarSync(tx, connectionId, { delayMs: 0 });
    await recordAudit(tx, actor, {
      action: "calendar.sync_requested",
      entityType: "connection",
      entityId: connectionId,
      after: { connectorId: conn.connectorId },
    });
  });
}

/** The vendor's choices for a calendar connection: which calendar, and what disconnecting does to the hub's events. */
export async function updateCalendarChoices(
  db: DbOrTx,
  supplierId: string,
  connectionId: string,
  choices: { onDisconnect?: OnDisconnect; calendarId?: string },
  actor: Actor,
): Promise<void> {
  const conn = await calendarConnection(db, connectionId, supplierId);
  const before = { onDisconnect: onDisconnectChoice(conn.settings), calendarId: conn.settings.calendarId ?? "primary" };
  const settings = { ...conn.settings, ...choices };
  await db.transaction(async (tx) => {
    await tx
      .update(connections)
      .set({ settings, updatedAt: sql`now()` })
      .where(eq(connections.id, connectionId));
    await recordAudit(tx, actor, {
      action: "calendar.choices_updated",
      entityType: "connection",
      entityId: connectionId,
      before,
      after: { onDisconnect: onDisconnectChoice(settings), calendarId: settings.calendarId ?? "primary" },
    });
  });
}
