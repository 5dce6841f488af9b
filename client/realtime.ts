// The hub's realtime client helper (entry point "wedsync-integration-hub/realtime-client").
//
//   const hub = connectHub({ url: "https://hub.example", token, rooms: [{ room: `couple:${id}` }],
//                            onEvent: (e) => render(e.event) });
//
// It joins each room, remembers the last sequence seen per room, and on every
// reconnect joins again with that sequence, so the server replays what was
// missed, in order. Events already seen are dropped (by room and sequence),
// so the callback sees each event once, in order, across reconnects.
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export interface StreamEvent {
  room: string;
  seq: number;
  event: {
    id: number;
    coupleId: string;
    seq: number;
    type: string;
    changedFields: Record<string, { old: unknown; new: unknown }>;
    version: number;
    source: string;
    actor: string;
    supplierId: string | null;
    occurredAt: string;
  };
}

export interface RoomRequest {
  /** "couple:<id>" or "supplier:<id>" */
  room: string;
  /** Last sequence already seen; omit to start live from now. */
  after?: number;
}

export interface HubClientOptions {
  url: string;
  /** An API token; in a browser signed in to the console, omit it and the session cookie is used. */
  token?: string;
  rooms: RoomRequest[];
  onEvent: (e: StreamEvent) => void;
  /** A refused join or a server-side failure. */
  onError?: (e: { room?: string; message: string }) => void;
  /** Each successful (re)join, with the position the stream resumed from. */
  onJoined?: (room: string, lastSeq: number) => void;
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface HubClient {
  socket: Socket;
  /** Last sequence delivered for a room (undefined before the first join). */
  lastSeq(room: string): number | undefined;
  join(room: RoomRequest): void;
  leave(room: string): void;
  close(): void;
}

export function connectHub(opts: HubClientOptions): HubClient {
  const positions = new Map<string, number>();
  const wanted = new Map<string, RoomRequest>(opts.rooms.map((r) => [r.room, r]));
  for (const r of opts.rooms) if (r.after !== undefined) positions.set(r.room, r.after);

  const socket = io(opts.url, {
    transports: ["websocket"],
    ...opts.socketOptions,
    auth: opts.token ? { token: opts.token } : {},
  });

  const sendJoin = (room: string) => {
    socket.emit("join", { room, after: positions.get(room) }, (reply: { ok: boolean; lastSeq?: number; error?: string }) => {
      if (!reply.ok) return opts.onError?.({ room, message: reply.error ?? "join refused" });
      // Starting live: remember where, so a reconnect resumes from there.
      if (!positions.has(room) && typeof reply.lastSeq === "number") positions.set(room, reply.lastSeq);
      opts.onJoined?.(room, reply.lastSeq ?? positions.get(room) ?? 0);
    });
  };

  socket.on("connect", () => {
    for (const room of wanted.keys()) sendJoin(room);
  });
  socket.on("event", (e: StreamEvent) => {
    if (!wanted.has(e.room)) return;
    const last = positions.get(e.room);
    if (last !== undefined && e.seq <= last) return; // seen before (a replay overlapping a live push)
    positions.set(e.room, e.seq);
    opts.onEvent(e);
  });
  socket.on("hub:error", (e: { room?: string; message: string }) => opts.onError?.(e));
  socket.on("connect_error", (err: Error) => opts.onError?.({ message: err.message }));

  return {
    socket,
    lastSeq: (room) => positions.get(room),
    join(r) {
      wanted.set(r.room, r);
      if (r.after !== undefined) positions.set(r.room, r.after);
      if (socket.connected) sendJoin(r.room);
    },
    leave(room) {
      wanted.delete(room);
      socket.emit("leave", { room });
    },
    close() {
      socket.disconnect();
    },
  };
}
