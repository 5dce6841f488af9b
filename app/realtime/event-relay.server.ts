// Each web process LISTENs on the events channel and hands every committed
// event to the local subscriptions of its couple's room and of each supplier
// feed it entered. Writers NOTIFY inside their transaction, so this works for
// writes from any process (another web node, a worker) and never announces an
// uncommitted change. Notifications are handled one at a time, in commit order.
import { sql } from "drizzle-orm";
import type { Db } from "../db.server";
import type { Logger } from "../log.server";
import { coupleRoom, supplierRoom, type HubEvent, type StreamEvent } from "../core-fields/events";
import { EVENTS_CHANNEL } from "../core-fields/write.server";
import { toHubEvent } from "../core-fields/read.server";
import { AVAILABILITY_CHANNEL } from "../calendar/availability.server";
import { IMPORT_PROGRESS_CHANNEL } from "../import/engine.server";
import { importProgressSchema, type ImportProgress } from "../import/progress";
import { listenWithReconnect } from "../runtime/pg-listener.server";

export interface EventSink {
  /** Deliver one stream position to local subscribers of its room. */
  dispatch(e: StreamEvent): void;
  /** The listener reconnected: notifications may have been missed. */
  resyncAll(): void;
  /** A calendar pull changed a supplier's busy times (see AVAILABILITY_CHANNEL). */
  availabilityChanged?(supplierId: string): void;
  /** An import run committed a page or finished (see IMPORT_PROGRESS_CHANNEL). */
  importProgress?(p: ImportProgress): void;
}

export interface EventRelay {
  stop(): Promise<void>;
}

export async function startEventRelay(opts: { databaseUrl: string; db: Db; log: Logger; sink: EventSink }): Promise<EventRelay> {
  const { log, sink } = opts;
  let chain: Promise<void> = Promise.resolve();

  const handle = async (payload: string) => {
    const parsed = JSON.parse(payload) as { event?: HubEvent; feeds?: Record<string, number>; id?: number };
    let event = parsed.event;
    let feeds = parsed.feeds;
    if (!event || !feeds) {
      // Too large for a NOTIFY payload: read it back.
      const res = await opts.db.execute(sql`select * from events where id = ${parsed.id ?? 0}`);
      const row = res.rows[0];
      if (!row) return;
      event = toHubEvent(row as Parameters<typeof toHubEvent>[0]);
      const f = await opts.db.execute<{ supplier_id: string; seq: string }>(
        sql`select supplier_id, seq from supplier_feed where event_id = ${event.id}`,
      );
      feeds = Object.fromEntries(f.rows.map((r) => [r.supplier_id, Number(r.seq)]));
    }
    sink.dispatch({ room: coupleRoom(event.coupleId), seq: event.seq, event });
    for (const [supplierId, seq] of Object.entries(feeds)) sink.dispatch({ room: supplierRoom(supplierId), seq, event });
  };

  return listenWithReconnect({
    databaseUrl: opts.databaseUrl,
    channels: [EVENTS_CHANNEL, AVAILABILITY_CHANNEL, IMPORT_PROGRESS_CHANNEL],
    log,
    name: "event relay",
    onNotification: (msg) => {
      if (msg.channel === AVAILABILITY_CHANNEL && msg.payload) {
        const supplierId = (JSON.parse(msg.payload) as { supplierId?: unknown }).supplierId;
        if (typeof supplierId === "string") sink.availabilityChanged?.(supplierId);
        return;
      }
      if (msg.channel === IMPORT_PROGRESS_CHANNEL && msg.payload) {
        const parsed = importProgressSchema.safeParse(JSON.parse(msg.payload));
        if (parsed.success) sink.importProgress?.(parsed.data);
        else log.warn({ issues: parsed.error.issues }, "unreadable import progress notification");
        return;
      }
      if (msg.channel !== EVENTS_CHANNEL || !msg.payload) return;
      const payload = msg.payload;
      chain = chain
        .then(() => handle(payload))
        .catch((err: unknown) => log.error({ err }, "event relay failed on a notification"));
    },
    onReconnected: () => sink.resyncAll(),
    drain: () => chain,
  });
}
