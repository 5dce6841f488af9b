// Socket.IO on the same http.Server as the console and API.
//
// Handshake: a console session cookie or `auth.token` (an API token). Staff
// are put in `ops`. Clients then `join` a stream room, `couple:<id>` or
// `supplier:<id>`, saying the last sequence they saw (`after`); the server
// checks access, replays what they missed in order, then streams live
// events. A room they may not join is refused with an `hub:error` event.
//
// Protocol (see client/realtime.ts for the helper that speaks it):
//   client -> server  "join"  { room, after? }   ack { ok: true, room, lastSeq } | { ok: false, error }
//   client -> server  "leave" { room }
//   server -> client  "event" { room, seq, event }
//   server -> client  "hub:error" { room?, message }
//   server -> client  "availability" { room, supplierId }  a vendor's busy times changed: read them again
//                     (GET /api/v1/couples/:coupleId/availability); sent to the couple rooms of its couples
//                     and to the supplier's own room
//   server -> client  "import:progress" { runId, supplierId?, done?, total?, status?, counts? }  a CRM import
//                     committed a page or finished; sent to `ops` (staff) and to the supplier's room
import type http from "node:http";
import { sql } from "drizzle-orm";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { userForSession } from "../auth/sessions.server";
import { authenticateApiToken } from "../auth/api-tokens.server";
import { principalFromToken, principalFromUser, type Principal } from "../core-fields/principal";
import { canAccessCouple, canAccessSupplier, canSeeEvent } from "../core-fields/access.server";
import { coupleEventsAfter, supplierEventsAfter } from "../core-fields/read.server";
import type { StreamEvent } from "../core-fields/events";
import { StreamSubscription } from "./stream-subscription.server";
import { startEventRelay, type EventRelay } from "./event-relay.server";
import { IMPORT_PROGRESS_EVENT } from "../import/progress";

const joinSchema = z.object({
  room: z.string().regex(/^(couple|supplier):[0-9a-f-]{36}$/i, 'room must be "couple:<uuid>" or "supplier:<uuid>"'),
  after: z.number().int().min(0).optional(),
});

export interface Realtime {
  io: Server;
  /** Sockets connected to this process. */
  connectedCount(): number;
  stop(): Promise<void>;
}

export async function attachRealtime(server: http.Server, ctx: HubContext): Promise<Realtime> {
  const io = new Server(server, { serveClient: false, cors: { origin: false } });
  /** room -> local subscriptions (one per socket that joined it). */
  const rooms = new Map<string, Set<StreamSubscription>>();

  const relay: EventRelay = await startEventRelay({
    databaseUrl: ctx.databaseUrl,
    db: ctx.db,
    log: ctx.log,
    sink: {
      dispatch: (e) => rooms.get(e.room)?.forEach((s) => s.offer(e)),
      resyncAll: () => rooms.forEach((subs) => subs.forEach((s) => s.resync())),
      availabilityChanged: (supplierId) => void announceAvailability(supplierId),
      // Staff watch every run; a supplier's room (joined only by those who may) sees its own.
      importProgress: (p) => {
        // One emit over both rooms: a socket in both gets it once.
        io.to(p.supplierId ? ["ops", `supplier:${p.supplierId}`] : "ops").emit(IMPORT_PROGRESS_EVENT, p);
      },
    },
  });

  /** Tell the rooms of a supplier and of its couples that its busy times changed (sockets in those Socket.IO rooms). */
  const announceAvailability = async (supplierId: string) => {
    try {
      const res = await ctx.db.execute<{ couple_id: string }>(
        sql`select couple_id from supplier_couples where supplier_id = ${supplierId}`,
      );
      const targets = [`supplier:${supplierId}`, ...res.rows.map((r) => `couple:${r.couple_id}`)];
      for (const room of targets) io.to(room).emit("availability", { room, supplierId });
    } catch (err) {
      ctx.log.error({ err, supplierId }, "availability announcement failed");
    }
  };

  io.use(async (socket, next) => {
    try {
      const principal = await identify(socket.handshake.headers.cookie, socket.handshake.auth, ctx);
      if (!principal) return next(new Error("unauthorized: sign in to the console or pass auth.token (an API token)"));
      socket.data.principal = principal;
      next();
    } catch (err) {
      ctx.log.error({ err }, "realtime handshake failed");
      next(new Error("unavailable: try again shortly"));
    }
  });

  io.on("connection", (socket) => {
    const principal = socket.data.principal as Principal;
    const mine = new Map<string, StreamSubscription>();
    if (principal.type === "staff") void socket.join("ops");

    const refuse = (message: string, room?: string) => {
      socket.emit("hub:error", { room, message });
      return { ok: false as const, error: message };
    };

    socket.on("join", async (raw: unknown, ack?: (reply: unknown) => void) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = joinSchema.safeParse(raw);
      if (!parsed.success) return reply(refuse(parsed.error.issues.map((i) => i.message).join("; ")));
      const { room, after } = parsed.data;
      try {
        const [kind, id] = room.split(":") as ["couple" | "supplier", string];
        const allowed =
          kind === "couple" ? await canAccessCouple(ctx.db, principal, id) : await canAccessSupplier(ctx.db, principal, id);
        if (!allowed) return reply(refuse(`You may not join ${room}.`, room));
        mine.get(room)?.close();
        rooms.get(room)?.delete(mine.get(room)!);
        const fetchAfter =
          kind === "couple"
            ? (seq: number, limit: number) => coupleEventsAfter(ctx.db, id, seq, limit)
            : (seq: number, limit: number) => supplierEventsAfter(ctx.db, id, seq, limit);
        // Without `after`, start live from the stream's current position.
        const start = after ?? (await currentPosition(ctx, kind, id));
        const sub = new StreamSubscription(
          room,
          start,
          fetchAfter,
          // Positions advance for every event; only what this principal may see is sent.
          (e: StreamEvent) => {
            if (canSeeEvent(principal, e.event)) socket.emit("event", e);
          },
          (err) => ctx.log.error({ err, room }, "realtime catch-up failed"),
        );
        mine.set(room, sub);
        let set = rooms.get(room);
        if (!set) rooms.set(room, (set = new Set()));
        set.add(sub);
        await sub.start();
        await socket.join(room); // for broadcasts that are not stream events (availability)
        reply({ ok: true, room, lastSeq: sub.position });
      } catch (err) {
        ctx.log.error({ err, room }, "join failed");
        reply(refuse("Joining failed on our side; try again shortly.", room));
      }
    });

    socket.on("leave", (raw: unknown) => {
      const room = typeof raw === "object" && raw !== null ? (raw as { room?: unknown }).room : undefined;
      if (typeof room !== "string") return;
      const sub = mine.get(room);
      if (!sub) return;
      sub.close();
      rooms.get(room)?.delete(sub);
      mine.delete(room);
      void socket.leave(room);
    });

    socket.on("disconnect", () => {
      for (const [room, sub] of mine) {
        sub.close();
        const set = rooms.get(room);
        set?.delete(sub);
        if (set?.size === 0) rooms.delete(room);
      }
      mine.clear();
    });
  });

  return {
    io,
    connectedCount: () => io.of("/").sockets.size,
    async stop() {
      await relay.stop();
    },
  };
}

async function currentPosition(ctx: HubContext, kind: "couple" | "supplier", id: string): Promise<number> {
  const res =
    kind === "couple"
      ? await ctx.db.execute<{ seq: string }>(sql`select last_seq as seq from core_fields where couple_id = ${id}`)
      : await ctx.db.execute<{ seq: string }>(sql`select last_feed_seq as seq from suppliers where id = ${id}`);
  return Number(res.rows[0]?.seq ?? 0);
}

async function identify(
  cookieHeader: string | undefined,
  auth: Record<string, unknown>,
  ctx: HubContext,
): Promise<Principal | null> {
  if (typeof auth.token === "string") {
    const t = await authenticateApiToken(ctx.db, auth.token);
    return t ? principalFromToken(t) : null;
  }
  const session: unknown = await ctx.cookies.session.parse(cookieHeader ?? null);
  if (typeof session !== "string") return null;
  const user = await userForSession(ctx.db, session);
  return user ? principalFromUser(user) : null;
}

export type { Socket };
