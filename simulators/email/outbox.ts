// What an email simulator received, shared by the Resend, SendGrid and SES
// simulators: every accepted message with the idempotency key the hub sent,
// so tests and benches can count deliveries per key (a duplicate is a count > 1),
// and the sandbox console can show the outbox rendered.
export interface SimulatedEmail {
  id: string;
  /** The hub's key as the provider saw it (Idempotency-Key header, custom_args, email tag, Message-ID). */
  key: string | null;
  from: string;
  to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  attachments: { filename: string; contentType?: string; size: number }[];
  receivedAt: string;
}

export interface Outbox {
  add(email: Omit<SimulatedEmail, "receivedAt">): SimulatedEmail;
  list(): SimulatedEmail[];
  /** Deliveries per key (emails without a key are not counted). */
  countsByKey(): Map<string, number>;
  /** Keys delivered more than once. */
  duplicates(): string[];
  find(id: string): SimulatedEmail | undefined;
  clear(): void;
  /** The next `n` accepted messages get no answer (the request hangs after the provider accepted it). */
  hangAfterAccept(n: number): void;
  /** Consumes one "hang after accept" if armed. */
  takeHang(): boolean;
}

export function createOutbox(limit = 50_000): Outbox {
  let emails: SimulatedEmail[] = [];
  const byId = new Map<string, SimulatedEmail>();
  const counts = new Map<string, number>();
  let hangs = 0;
  return {
    add(email) {
      const stored = { ...email, receivedAt: new Date().toISOString() };
      emails.push(stored);
      byId.set(stored.id, stored);
      if (emails.length > limit) {
        const dropped = emails.shift();
        if (dropped) byId.delete(dropped.id);
      }
      if (email.key) counts.set(email.key, (counts.get(email.key) ?? 0) + 1);
      return stored;
    },
    list: () => [...emails],
    countsByKey: () => new Map(counts),
    duplicates: () => [...counts].filter(([, n]) => n > 1).map(([k]) => k),
    find: (id) => byId.get(id),
    clear() {
      emails = [];
      byId.clear();
      counts.clear();
      hangs = 0;
    },
    hangAfterAccept(n) {
      hangs = n;
    },
    takeHang() {
      if (hangs <= 0) return false;
      hangs--;
      return true;
    },
  };
}

/** A fixed-window limiter per API key: the provider's documented rate limit. */
export function createWindowLimiter(requests: number, windowMs: number) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** null when allowed, else seconds until the window resets. */
    take(key: string, now = Date.now()): number | null {
      const w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        windows.set(key, { start: now, count: 1 });
        return null;
      }
      if (w.count < requests) {
        w.count++;
        return null;
      }
      return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    },
  };
}
