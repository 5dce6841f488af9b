// Counts fan-out deliveries for push benches: each change is recorded with its
// send time and how many listeners should receive it; each listener reports
// what it received. Gives latencies (send -> receipt, ms) and the accounting:
// lost, duplicates, unknown (never sent), misrouted (reached a listener that
// should not get it).

interface Sent {
  at: number;
  /** Listener ids that should receive this change. */
  to: ReadonlySet<string>;
  measured: boolean;
}

export interface DeliveryReport {
  /** Measured changes recorded as sent. */
  changes: number;
  /** Measured changes whose send failed (their deliveries count as lost). */
  abandoned: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  unknown: number;
  misrouted: number;
  latencies: number[];
}

export class DeliveryTracker {
  private readonly sent = new Map<string, Sent>();
  /** listener id -> keys it received */
  private readonly seen = new Map<string, Set<string>>();
  private readonly latencies: number[] = [];
  private expectedCount = 0;
  private receivedCount = 0;
  private warmExpected = 0;
  private warmReceived = 0;
  private duplicates = 0;
  private unknown = 0;
  private misrouted = 0;
  private changes = 0;
  private abandoned = 0;

  /**
   * Call right before the change is sent. `at` is when latency starts (default: now; pass the
   * scheduled time when the send had to wait). Warm-up changes (measured false) are not counted.
   */
  markSent(key: string, to: ReadonlySet<string>, measured: boolean, at = performance.now()): void {
    if (this.sent.has(key)) throw new Error(`change ${key} recorded twice`);
    this.sent.set(key, { at, to, measured });
    if (measured) {
      this.changes++;
      this.expectedCount += to.size;
    } else this.warmExpected += to.size;
  }

  /**
   * The send failed, so the change never happened: forget the key (it may be
   * sent again) but keep its deliveries expected, so they show as lost.
   */
  abandon(key: string): void {
    const s = this.sent.get(key);
    if (!s) return;
    this.sent.delete(key);
    if (s.measured) this.abandoned++;
    else this.warmExpected -= s.to.size;
  }

  /** A listener received a change. */
  received(listener: string, key: string): void {
    const now = performance.now();
    const s = this.sent.get(key);
    if (!s) {
      this.unknown++;
      return;
    }
    if (!s.to.has(listener)) {
      this.misrouted++;
      return;
    }
    let keys = this.seen.get(listener);
    if (!keys) this.seen.set(listener, (keys = new Set()));
    if (keys.has(key)) {
      this.duplicates++;
      return;
    }
    keys.add(key);
    if (!s.measured) {
      this.warmReceived++;
      return;
    }
    this.receivedCount++;
    this.latencies.push(now - s.at);
  }

  /** Every measured delivery arrived. */
  get complete(): boolean {
    return this.receivedCount >= this.expectedCount;
  }

  get warmComplete(): boolean {
    return this.warmReceived >= this.warmExpected;
  }

  report(): DeliveryReport {
    return {
      changes: this.changes,
      abandoned: this.abandoned,
      expected: this.expectedCount,
      received: this.receivedCount,
      lost: this.expectedCount - this.receivedCount,
      duplicates: this.duplicates,
      unknown: this.unknown,
      misrouted: this.misrouted,
      latencies: [...this.latencies],
    };
  }
}
