// Reading CalDAV calendar object resources with ical.js: the event an object
// holds, its times as RFC 3339 (with the offset the event's own time zone had
// at that moment) or dates, and the merge the push uses after a 412 (our
// managed properties over the vendor's copy, everything else of theirs kept).
// Writing stays with ical-generator (ical.ts): this module never renders an
// event from scratch.
import ICAL from "ical.js";

/** The properties the hub owns on its events: what the push compares and overwrites. */
const MANAGED_PROPS = ["summary", "description", "location", "dtstart", "dtend", "duration"] as const;

export interface ManagedFields {
  summary: string | null;
  description: string | null;
  location: string | null;
  start: string;
  end: string;
  allDay: boolean;
}

/** Parse a VCALENDAR; null when it is not iCalendar at all. */
export function parseCalendar(text: string): ICAL.Component | null {
  try {
    const comp = new ICAL.Component(ICAL.parse(text));
    return comp.name === "vcalendar" ? comp : null;
  } catch {
    return null;
  }
}

/** The object's main VEVENT: the one without RECURRENCE-ID (a recurring series' master), else the first. */
export function masterEvent(cal: ICAL.Component): ICAL.Component | null {
  const events = cal.getAllSubcomponents("vevent");
  return events.find((e) => !e.hasProperty("recurrence-id")) ?? events[0] ?? null;
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

/** Offset of an IANA zone at a UTC instant, in minutes east of UTC. */
function zoneOffsetMinutes(utcMillis: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMillis));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - utcMillis) / 60_000);
}

function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatOffset = (minutes: number) =>
  minutes === 0 ? "Z" : `${minutes < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;

/**
 * An ICAL.Time as the block keeps it: a date ("2027-06-12") for all-day values,
 * else the wall time with its offset. The zone comes from the object's VTIMEZONE
 * when it has one, else from the TZID as an IANA name (iCloud sometimes omits
 * the VTIMEZONE); a floating time (no zone at all) is read as UTC.
 */
export function rfc3339(time: ICAL.Time, tzid?: string): string {
  const date = `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  if (time.isDate) return date;
  const wall = `${date}T${pad(time.hour)}:${pad(time.minute)}:${pad(time.second)}`;
  const zone = time.zone;
  if (zone === ICAL.Timezone.utcTimezone) return `${wall}Z`;
  if (zone && zone !== ICAL.Timezone.localTimezone && zone.component)
    return `${wall}${formatOffset(Math.round(time.utcOffset() / 60))}`;
  if (tzid && knownZone(tzid)) {
    const guess = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
    let offset = zoneOffsetMinutes(guess, tzid);
    offset = zoneOffsetMinutes(guess - offset * 60_000, tzid);
    return `${wall}${formatOffset(offset)}`;
  }
  return `${wall}Z`;
}

const tzidOf = (vevent: ICAL.Component, name: string): string | undefined => {
  const p = vevent.getFirstProperty(name)?.getParameter("tzid");
  return typeof p === "string" ? p : undefined;
};

const text = (vevent: ICAL.Component, name: string): string | null => {
  const v = vevent.getFirstPropertyValue(name);
  return typeof v === "string" && v !== "" ? v : null;
};

/**
 * A VEVENT's start and end as the block keeps them. ICAL.Event works the end out
 * from DURATION, or gives a date-only event its one-day default, when there is no DTEND.
 */
export function eventTimes(vevent: ICAL.Component): { start: string; end: string; allDay: boolean } {
  const ev = new ICAL.Event(vevent);
  const startTz = tzidOf(vevent, "dtstart");
  return {
    start: rfc3339(ev.startDate, startTz),
    end: rfc3339(ev.endDate, tzidOf(vevent, "dtend") ?? startTz),
    allDay: ev.startDate.isDate,
  };
}

/** The fields the hub owns, normalised so two renderings of the same event compare equal. */
export function managedFields(vevent: ICAL.Component): ManagedFields {
  const ev = new ICAL.Event(vevent);
  const start = ev.startDate;
  const end = ev.endDate;
  // Compared as instants, not as text: "14:00+01:00" and "13:00Z" are the same start.
  const instant = (t: ICAL.Time, tzid: string | undefined) => {
    const iso = rfc3339(t, tzid);
    return t.isDate ? iso : new Date(iso).toISOString();
  };
  return {
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    start: instant(start, tzidOf(vevent, "dtstart")),
    end: instant(end, tzidOf(vevent, "dtend") ?? tzidOf(vevent, "dtstart")),
    allDay: start.isDate,
  };
}

export const sameManagedFields = (a: ManagedFields, b: ManagedFields): boolean =>
  (Object.keys(a) as (keyof ManagedFields)[]).every((k) => a[k] === b[k]);

/**
 * The vendor's copy of our event with our managed properties put over theirs:
 * alarms, categories, colours and anything else they added survive; SEQUENCE
 * goes past theirs so their devices take the new version.
 * Null when their copy has no event to merge into (the caller then writes ours whole).
 */
export function mergeOver(remoteText: string, oursText: string): string | null {
  const remote = parseCalendar(remoteText);
  const ours = parseCalendar(oursText);
  const theirEvent = remote && masterEvent(remote);
  const ourEvent = ours && masterEvent(ours);
  if (!remote || !theirEvent || !ourEvent) return null;
  const theirSequence = Number(theirEvent.getFirstPropertyValue("sequence") ?? 0);
  for (const name of [...MANAGED_PROPS, "dtstamp", "last-modified", "sequence"]) theirEvent.removeAllProperties(name);
  for (const name of [...MANAGED_PROPS, "dtstamp", "last-modified"])
    for (const prop of ourEvent.getAllProperties(name)) theirEvent.addProperty(new ICAL.Property(prop.toJSON()));
  theirEvent.updatePropertyWithValue("sequence", (Number.isFinite(theirSequence) ? theirSequence : 0) + 1);
  return remote.toString();
}
