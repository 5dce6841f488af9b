// iCalendar (RFC 5545) text for the hub's wedding events, written by
// ical-generator rather than by hand. Both the CalDAV push (one VEVENT per
// resource) and the vendor's iCal feed (all events in one VCALENDAR) start
// from the body the calendar mapping produced (Google Calendar event shape).
// Times are written in UTC (the offset in the mapping's dateTime is exact);
// all-day events keep their dates.
import ical, { ICalCalendarMethod, type ICalCalendar } from "ical-generator";
import { z } from "zod";

export const PRODUCT_ID = { company: "WedSync", product: "Integration Hub", language: "EN" };

const when = z.union([
  z.object({ dateTime: z.string().min(1), timeZone: z.string().optional() }),
  z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
]);

/** The fields of a mapped event body that iCalendar can carry. */
const eventBody = z.object({
  summary: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
  start: when,
  end: when,
});

export interface ICalEventInput {
  /** Stable across renders: the same event keeps its UID, so calendar apps update rather than duplicate. */
  uid: string;
  /** A mapped event body (Google Calendar event shape). */
  body: Record<string, unknown>;
  /** DTSTAMP/LAST-MODIFIED: when the event's content last changed (keeps the text stable between renders). */
  stamp: Date;
  /** SEQUENCE: bump when the event changes, so clients take the new version. */
  sequence?: number;
}

/** "2027-06-12" -> a Date at UTC midnight (ical-generator writes all-day dates from UTC fields). */
const utcDate = (date: string) => new Date(`${date}T00:00:00Z`);

function toDate(w: z.infer<typeof when>): { date: Date; allDay: boolean } {
  if ("date" in w) return { date: utcDate(w.date), allDay: true };
  const ms = Date.parse(w.dateTime);
  if (Number.isNaN(ms)) throw new Error(`not a date-time: ${w.dateTime}`);
  return { date: new Date(ms), allDay: false };
}

function addEvent(cal: ICalCalendar, input: ICalEventInput): void {
  const body = eventBody.parse(input.body);
  const start = toDate(body.start);
  const end = toDate(body.end);
  cal.createEvent({
    id: input.uid,
    start: start.date,
    end: end.date,
    allDay: start.allDay,
    stamp: input.stamp,
    lastModified: input.stamp,
    sequence: input.sequence ?? 0,
    summary: body.summary ?? "Wedding",
    description: body.description ?? null,
    location: body.location ?? null,
  });
}

/** Does this mapped body have what an iCalendar event needs (start and end)? */
export const isICalRenderable = (body: Record<string, unknown>): boolean => eventBody.safeParse(body).success;

/** A whole calendar (the iCal feed). */
export function renderCalendar(opts: { name: string; events: ICalEventInput[]; ttlSeconds?: number }): string {
  const cal = ical({ name: opts.name, prodId: PRODUCT_ID, method: ICalCalendarMethod.PUBLISH, ttl: opts.ttlSeconds ?? 3600 });
  for (const ev of opts.events) addEvent(cal, ev);
  return cal.toString();
}

/** One CalDAV calendar object resource: a VCALENDAR holding exactly one VEVENT. */
export function renderEventResource(event: ICalEventInput): string {
  const cal = ical({ prodId: PRODUCT_ID });
  addEvent(cal, event);
  return cal.toString();
}
