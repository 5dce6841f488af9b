// "Is our event still there?" per calendar provider, for the consistency
// checker's sample of calendar_events rows (app/ops/consistency.server.ts).
// One client per connection and call; each event is one GET. A 404/410 (or
// Google's cancelled tombstone) is "gone"; anything that kept us from knowing
// (the connection cannot be opened, 401, a timeout, a 5xx) is "unchecked".
import type { HubContext } from "../runtime/context.server";
import { openGoogleCalendar } from "./google-push.server";
import { openOutlookCalendar } from "./outlook-graph.server";
import { openCalDav } from "./caldav-client.server";
import { presenceFromError, type CalendarEventRef, type EventPresence } from "./provider";

/** Per request: a hung provider must not hold the checker. */
const LOOKUP_TIMEOUT_MS = 15_000;

const allUnchecked = (refs: readonly CalendarEventRef[], err: unknown): EventPresence[] => {
  const presence = presenceFromError(err);
  // Opening the connection failed: nothing was looked up, so nothing can be "gone".
  const reason = presence.state === "unchecked" ? presence.reason : "the connection could not be opened";
  return refs.map(() => ({ state: "unchecked", reason }));
};

async function eachRef(
  refs: readonly CalendarEventRef[],
  lookup: (ref: CalendarEventRef) => Promise<EventPresence>,
): Promise<EventPresence[]> {
  const out: EventPresence[] = [];
  for (const ref of refs) {
    try {
      out.push(await lookup(ref));
    } catch (err) {
      out.push(presenceFromError(err));
    }
  }
  return out;
}

export async function googleEventsExist(
  ctx: HubContext,
  connectionId: string,
  refs: readonly CalendarEventRef[],
): Promise<EventPresence[]> {
  let api: Awaited<ReturnType<typeof openGoogleCalendar>>["api"];
  try {
    ({ api } = await openGoogleCalendar(ctx, connectionId));
  } catch (err) {
    return allUnchecked(refs, err);
  }
  return eachRef(refs, async (ref) => {
    const res = await api.events.get(
      { calendarId: ref.calendarId, eventId: ref.providerEventId },
      { retry: false, timeout: LOOKUP_TIMEOUT_MS },
    );
    // Google keeps a deleted event's id and answers with a "cancelled" copy of it.
    return res.data.status === "cancelled" ? { state: "gone", status: "cancelled" } : { state: "present" };
  });
}

export async function outlookEventsExist(
  ctx: HubContext,
  connectionId: string,
  refs: readonly CalendarEventRef[],
): Promise<EventPresence[]> {
  let cal: Awaited<ReturnType<typeof openOutlookCalendar>>;
  try {
    cal = await openOutlookCalendar(ctx, connectionId);
  } catch (err) {
    return allUnchecked(refs, err);
  }
  return eachRef(refs, async (ref) => {
    const lookup = cal
      .request(`/me/events/${encodeURIComponent(ref.providerEventId)}`)
      .select("id")
      .get() as Promise<unknown>;
    await withTimeout(lookup, LOOKUP_TIMEOUT_MS);
    return { state: "present" };
  });
}

export async function caldavEventsExist(
  ctx: HubContext,
  connectionId: string,
  refs: readonly CalendarEventRef[],
): Promise<EventPresence[]> {
  let session: Awaited<ReturnType<typeof openCalDav>>;
  try {
    session = await openCalDav(ctx, connectionId);
  } catch (err) {
    return allUnchecked(refs, err);
  }
  const origin = new URL(session.calendarUrl).origin;
  return eachRef(refs, async (ref) => {
    // The row's URL carries the account's password in the request: only ever to the account's own server.
    if (!URL.canParse(ref.providerEventId) || new URL(ref.providerEventId).origin !== origin)
      return { state: "unchecked", reason: "the event's URL is not on the account's CalDAV server" };
    const res = await session.request(ref.providerEventId, { method: "GET", signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
    await res.arrayBuffer(); // drain so the connection is reused
    if (res.ok) return { state: "present" };
    throw session.fail(res, `GET ${ref.providerEventId}`);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
