// Ops in every process: metric snapshots (all roles), the KPI ticker (one
// elected process, when enabled), and in web processes the Socket.IO side:
// relay `hub_ops` notifications to the `ops` room and measure the sockets.
//
//   server -> client (room ops)  "ops:tick"  OpsTick   every second: KPI values, queue, providers, live alerts
//   server -> client (room ops)  "ops:alert" AlertView an alert opened, was acknowledged or resolved
import type { Server } from "socket.io";
import type { HubContext } from "../runtime/context.server";
import { realtimeConnected, realtimeConnections, realtimeDeliveryLatency, realtimeDisconnects } from "./metrics.server";
import { startSnapshotWriter } from "./snapshots.server";
import { OPS_CHANNEL, opsNoticeSchema, startKpiTicker } from "./ticker.server";
import { listenWithReconnect } from "../runtime/pg-listener.server";

export const OPS_TICK_EVENT = "ops:tick";
export const OPS_ALERT_EVENT = "ops:alert";

export interface OpsRuntime {
  /** Write this process's snapshot now (tests). */
  flushSnapshot(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOps(ctx: HubContext, opts: { io?: Server } = {}): Promise<OpsRuntime> {
  const stops: (() => Promise<void>)[] = [];
  if (opts.io) {
    instrumentSockets(opts.io);
    const relay = await startOpsRelay(ctx, opts.io);
    stops.push(relay.stop);
  }
  const snapshots = startSnapshotWriter(ctx);
  stops.push(snapshots.stop);
  if (ctx.config.opsTicker) {
    const ticker = startKpiTicker(ctx);
    stops.push(ticker.stop);
  }
  return {
    flushSnapshot: snapshots.flush,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

// Tabs closing and clients leaving are normal; a lost transport is not. A closed
// browser tab ends as "transport close", so only errors and timeouts count.
const ABNORMAL = new Set(["ping timeout", "transport error", "parse error"]);

function instrumentSockets(io: Server): void {
  io.on("connection", (socket) => {
    realtimeConnections.inc();
    realtimeConnected.inc();
    // Every stream event on its way out: how long since its change committed.
    socket.onAnyOutgoing((event: string, ...args: unknown[]) => {
      if (event !== "event") return;
      const occurredAt = (args[0] as { event?: { occurredAt?: unknown } } | undefined)?.event?.occurredAt;
      const t = typeof occurredAt === "string" || occurredAt instanceof Date ? new Date(occurredAt).getTime() : NaN;
      if (Number.isFinite(t)) realtimeDeliveryLatency.observe(Math.max(0, Date.now() - t) / 1000);
    });
    socket.on("disconnect", (reason: string) => {
      realtimeConnected.dec();
      realtimeDisconnects.inc({ kind: ABNORMAL.has(reason) ? "abnormal" : "normal" });
    });
  });
}

/** LISTEN hub_ops and emit each notice to the `ops` room of this process's sockets. */
async function startOpsRelay(ctx: HubContext, io: Server): Promise<{ stop(): Promise<void> }> {
  const log = ctx.log.child({ component: "ops-relay" });
  return listenWithReconnect({
    databaseUrl: ctx.databaseUrl,
    channels: [OPS_CHANNEL],
    log,
    name: "ops relay",
    onNotification: (msg) => {
      if (msg.channel !== OPS_CHANNEL || !msg.payload) return;
      const parsed = opsNoticeSchema.safeParse(JSON.parse(msg.payload));
      if (!parsed.success) return log.warn({ issues: parsed.error.issues }, "unreadable ops notification");
      const notice = parsed.data;
      if (notice.type === "tick") {
        io.to("ops").emit(OPS_TICK_EVENT, notice);
        for (const alert of notice.changed) io.to("ops").emit(OPS_ALERT_EVENT, alert);
      } else io.to("ops").emit(OPS_ALERT_EVENT, notice.alert);
    },
  });
}
