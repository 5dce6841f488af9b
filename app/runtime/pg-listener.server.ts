// One dedicated PostgreSQL connection that LISTENs on some channels and comes
// back after losing the database (backoff 200 ms doubling to 5 s). Used by the
// realtime event relay and the ops relay of each web process.
import pg from "pg";
import type { Logger } from "../log.server";

export interface PgListener {
  /** Close the connection; `drain` (work still in flight) is awaited first. */
  stop(): Promise<void>;
}

export async function listenWithReconnect(opts: {
  databaseUrl: string;
  channels: readonly string[];
  log: Logger;
  /** What this listener is, for the log line when it reconnects. */
  name: string;
  onNotification(msg: pg.Notification): void;
  /** After a reconnect: notifications sent meanwhile were missed. */
  onReconnected?(): void;
  drain?(): Promise<void>;
}): Promise<PgListener> {
  let client: pg.Client | null = null;
  let stopped = false;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.databaseUrl });
    c.on("notification", opts.onNotification);
    c.on("error", (err) => {
      opts.log.warn({ err: err.message }, `${opts.name} lost its database connection; reconnecting`);
      void reconnect(c);
    });
    await c.connect();
    for (const channel of opts.channels) await c.query(`LISTEN ${channel}`);
    client = c;
  };

  const reconnect = async (old: pg.Client): Promise<void> => {
    if (stopped || client !== old) return;
    client = null;
    await old.end().catch(() => undefined);
    for (let delay = 200; !stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await connect();
        opts.onReconnected?.();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      const c = client;
      client = null;
      await opts.drain?.();
      await c?.end().catch(() => undefined);
    },
  };
}
