// Wall-clock time in IANA time zones with Intl only (no date library): what a
// local time means as an instant across DST gaps and overlaps. Shared by quiet
// hours (messaging) and wedding-day windows (ops).

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface Wall {
  y: number;
  m: number;
  d: number;
  h: number;
  min: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
export function wallClock(t: number, timeZone: string): Wall {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return {
    y: Number(parts.year),
    m: Number(parts.month),
    d: Number(parts.day),
    h: Number(parts.hour),
    min: Number(parts.minute),
  };
}

const asUtc = (w: Wall) => Date.UTC(w.y, w.m - 1, w.d, w.h, w.min);

/**
 * The first instant at which the wall clock in `timeZone` reads `wall` or later.
 * In a DST gap (02:30 that never happens) that is the moment the clocks jump;
 * in an overlap (01:30 twice) the first of the two.
 */
export function zonedToInstant(wall: Wall, timeZone: string): Date {
  const target = asUtc(wall);
  const offsetAt = (t: number) => asUtc(wallClock(t, timeZone)) - t;
  // The target minus either offset near it; the earlier valid one wins (overlap), else the gap's end.
  const candidates = [target - offsetAt(target - 86_400_000), target - offsetAt(target + 86_400_000), target - offsetAt(target)];
  const valid = candidates.filter((t) => asUtc(wallClock(t, timeZone)) === target).sort((a, b) => a - b);
  if (valid.length) return new Date(valid[0]!);
  // Gap: walk minute by minute from the earliest candidate until the wall clock has passed the target.
  let t = Math.min(...candidates);
  while (asUtc(wallClock(t, timeZone)) < target) t += 60_000;
  return new Date(t);
}
