// One socket's subscription to one stream (a couple's events or a supplier's
// feed). It guarantees, per connection: every event after the starting
// sequence, in order, once. Live events that arrive while it is catching up
// from the database (on join, or after a gap) are buffered, then merged.
import type { StreamEvent } from "../core-fields/events";

export type FetchAfter = (afterSeq: number, limit: number) => Promise<StreamEvent[]>;

const PAGE = 500;

export class StreamSubscription {
  private lastSeq: number;
  private buffer: StreamEvent[] = [];
  private catchingUp: Promise<void> | null = null;
  private closed = false;

  constructor(
    readonly room: string,
    startAfter: number,
    private readonly fetchAfter: FetchAfter,
    private readonly emit: (e: StreamEvent) => void,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.lastSeq = startAfter;
  }

  get position(): number {
    return this.lastSeq;
  }

  /** Replay what the client missed, then go live. */
  start(): Promise<void> {
    return this.catchUp();
  }

  close(): void {
    this.closed = true;
    this.buffer = [];
  }

  /** A live event for this stream. */
  offer(e: StreamEvent): void {
    if (this.closed || e.seq <= this.lastSeq) return;
    if (this.catchingUp) {
      this.buffer.push(e);
      return;
    }
    if (e.seq === this.lastSeq + 1) {
      this.deliver(e);
      return;
    }
    // A gap: a notification was missed (e.g. the listener reconnected). Read it back from the database.
    this.buffer.push(e);
    void this.catchUp();
  }

  /** Re-read from the database, e.g. after the notification listener lost its connection. */
  resync(): void {
    if (!this.closed) void this.catchUp();
  }

  private deliver(e: StreamEvent): void {
    this.lastSeq = e.seq;
    this.emit(e);
  }

  private catchUp(): Promise<void> {
    if (this.catchingUp) return this.catchingUp;
    this.catchingUp = (async () => {
      let failed = false;
      try {
        for (;;) {
          const page = await this.fetchAfter(this.lastSeq, PAGE);
          if (this.closed) return;
          for (const e of page) if (e.seq === this.lastSeq + 1) this.deliver(e);
          if (page.length < PAGE) break;
        }
        // Merge what arrived live meanwhile; anything still out of line waits for the next catch-up.
        this.buffer.sort((a, b) => a.seq - b.seq);
        const pending = this.buffer;
        this.buffer = [];
        for (const e of pending) {
          if (e.seq <= this.lastSeq) continue;
          if (e.seq === this.lastSeq + 1) this.deliver(e);
          else this.buffer.push(e);
        }
      } catch (err) {
        failed = true;
        this.onError(err);
      } finally {
        this.catchingUp = null;
      }
      if (this.buffer.length && !this.closed) {
        // After a database error, retry later rather than in a tight loop.
        if (failed) setTimeout(() => void this.catchUp(), 1000).unref();
        else void this.catchUp();
      }
    })();
    return this.catchingUp;
  }
}
