// Realtime test clients built on the shipped client helper (client/realtime.ts).
import { connectHub, type HubClient, type StreamEvent } from "../../client/realtime";

export interface Listener {
  client: HubClient;
  /** What the helper delivered (deduplicated, in order). */
  events: StreamEvent[];
  /** Every raw "event" message the server sent on this connection. */
  raw: StreamEvent[];
  errors: { room?: string; message: string }[];
  joined: Promise<void>;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

export function listen(url: string, token: string, rooms: { room: string; after?: number }[]): Listener {
  const events: StreamEvent[] = [];
  const raw: StreamEvent[] = [];
  const errors: { room?: string; message: string }[] = [];
  let resolveJoined!: () => void;
  const joined = new Promise<void>((r) => (resolveJoined = r));
  let pending = rooms.length;
  const client = connectHub({
    url,
    token,
    rooms,
    onEvent: (e) => events.push(e),
    onError: (e) => errors.push(e),
    onJoined: () => {
      if (--pending === 0) resolveJoined();
    },
    socketOptions: { reconnection: false },
  });
  client.socket.on("event", (e: StreamEvent) => raw.push(e));
  return {
    client,
    events,
    raw,
    errors,
    joined,
    async waitFor(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} events, got ${events.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

export const seqs = (events: StreamEvent[]) => events.map((e) => e.seq);
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
