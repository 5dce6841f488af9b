// Microsoft Graph v1.0 calendar simulator: /me/events (CRUD, $top/$skip paging,
// If-Match on @odata.etag, transactionId de-duplication), /me/calendars,
// /me/calendarView/delta ($skiptoken pages, $deltatoken increments, @removed
// entries, 410 on an unknown token) and /subscriptions (validation handshake,
// renew, delete, change notifications), answering with Graph's status codes and
// error JSON {"error":{"code","message"}} so the real
// `@microsoft/microsoft-graph-client` SDK can be pointed at it
// (baseUrl: sim.url, defaultVersion "v1.0").
import express from "express";
import type { NextFunction, Request, Response, Router } from "express";
import { randomBytes, randomUUID } from "node:crypto";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";

// ---- public types -----------------------------------------------------------

/** What `authorize` may answer; the Microsoft OAuth simulator's `checkAccessToken` result fits (its userId picks the mailbox). */
export type MicrosoftGraphAuthResult = boolean | { ok: boolean; userId?: string; user?: { email?: string; name?: string } };

export interface MicrosoftGraphSimulatorOptions {
  /** Checks the bearer token of every API call. Default: any non-empty token is accepted. */
  authorize?: (accessToken: string) => MicrosoftGraphAuthResult;
  /** Page size of GET /me/events without $top (Graph: 10). */
  pageSize?: number;
  /** Page size of calendarView/delta without `Prefer: odata.maxpagesize` (Graph: about 10; default 50 here). */
  deltaPageSize?: number;
  /** How long the validation handshake of POST /subscriptions may take (Graph: 10 s). */
  validationTimeoutMs?: number;
}

/** An event resource as GET /me/events/{id} returns it (times in UTC unless `Prefer: outlook.timezone`). */
export type GraphEvent = Record<string, unknown> & {
  id: string;
  "@odata.etag": string;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  start: { dateTime: string; timeZone: string };
  end: { dateTime: string; timeZone: string };
  isAllDay: boolean;
  transactionId: string | null;
};

export interface GraphCounters {
  creates: number;
  /** POSTs answered with an existing event because they carried its transactionId. */
  deduplicated: number;
  updates: number;
  deletes: number;
  gets: number;
  lists: number; // GET /me/events pages
  deltas: number; // calendarView/delta pages
}

export interface GraphSubscriptionSnapshot {
  id: string;
  owner: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  clientState?: string;
  expirationDateTime: string;
}

export interface GraphNotificationDelivery {
  subscriptionId: string;
  changeType: string;
  eventId: string;
  status?: number;
  error?: string;
}

export interface MicrosoftGraphControl {
  /** Live events of a mailbox ("" = the user `authorize` gave no userId for), times as stored (the client's zone). */
  events(owner?: string): GraphEvent[];
  event(eventId: string, owner?: string): GraphEvent | undefined;
  counters(owner?: string): GraphCounters;
  resetCounters(): void;
  /** Forgets every delta token: the next incremental call answers 410. Returns how many. */
  expireDeltaTokens(): number;
  subscriptions(): GraphSubscriptionSnapshot[];
  deliveries(): GraphNotificationDelivery[];
  /** Resolves once every change notification queued so far has been answered or failed. */
  flushNotifications(): Promise<void>;
  reset(): void;
}

export interface MicrosoftGraphSimulatorDefinition extends SimulatorDefinition {
  control: MicrosoftGraphControl;
}

// ---- internal state ---------------------------------------------------------

interface StoredTime {
  /** Local wall-clock date-time as the client sent it, seconds precision. */
  local: string;
  timeZone: string;
}

interface StoredEvent {
  id: string;
  fields: Record<string, unknown>; // client-writable properties other than start/end
  start: StoredTime;
  end: StoredTime;
  startMs: number;
  endMs: number;
  isAllDay: boolean;
  transactionId: string | null;
  changeKey: string;
  created: string;
  modified: string;
  changeSeq: number;
  deleted: boolean;
}

interface Mailbox {
  owner: string;
  email: string;
  name: string;
  calendarId: string;
  events: Map<string, StoredEvent>; // insertion order = creation order
  transactions: Map<string, string>; // transactionId -> live event id
  changeSeq: number;
  counters: GraphCounters;
}

interface DeltaWindow {
  owner: string;
  startMs: number;
  endMs: number;
  startRaw: string;
  endRaw: string;
}

interface DeltaToken extends DeltaWindow {
  seq: number;
}

interface SkipCursor extends DeltaWindow {
  /** Entries still to hand out: event ids, with a removed flag for incremental listings. */
  entries: { id: string; removed: boolean }[];
  offset: number;
  pageSize: number;
  seq: number; // the mailbox changeSeq the listing started at
}

interface Subscription extends GraphSubscriptionSnapshot {
  changeTypes: string[];
  deleted: boolean;
}

class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = () => new GraphApiError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
const invalid = (message: string, code = "ErrorInvalidRequest") => new GraphApiError(400, code, message);

function sendError(res: Response, err: GraphApiError): void {
  res.status(err.status).json({
    error: {
      code: err.code,
      message: err.message,
      innerError: { date: new Date().toISOString().slice(0, 19), "request-id": randomUUID(), "client-request-id": randomUUID() },
    },
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
const TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad";
const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(\.\d+)?$/;
const OFFSET_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;
// Properties the server owns; what a client sends for them is ignored, as in Graph.
const READ_ONLY = new Set([
  "id",
  "@odata.etag",
  "@odata.context",
  "changeKey",
  "createdDateTime",
  "lastModifiedDateTime",
  "iCalUId",
  "webLink",
  "organizer",
  "isOrganizer",
  "type",
  "seriesMasterId",
  "bodyPreview",
  "originalStartTimeZone",
  "originalEndTimeZone",
]);
// Outlook subscriptions on events live at most 4230 minutes.
const MAX_SUBSCRIPTION_MINUTES = 4230;

function emptyCounters(): GraphCounters {
  return { creates: 0, deduplicated: 0, updates: 0, deletes: 0, gets: 0, lists: 0, deltas: 0 };
}

// ---- time zones (IANA names, as Graph accepts besides Windows names) --------

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone's UTC offset (ms) at an instant. */
function zoneOffsetMs(utcMs: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

function localToUtcMs(local: string, tz: string): number {
  const naive = Date.parse(`${local}Z`);
  const first = naive - zoneOffsetMs(naive, tz);
  return naive - zoneOffsetMs(first, tz);
}

/** Graph's dateTime form: local wall clock with seven fractional digits. */
const graphDateTime = (local: string) => `${local}.0000000`;

function formatInZone(utcMs: number, tz: string): string {
  return graphDateTime(new Date(utcMs + zoneOffsetMs(utcMs, tz)).toISOString().slice(0, 19));
}

function parseTime(value: unknown, which: "start" | "end"): StoredTime {
  if (!isRecord(value) || typeof value.dateTime !== "string")
    throw invalid(`The '${which}' property is required and must have a dateTime.`, "ErrorInvalidParameter");
  const m = LOCAL_DATE_TIME.exec(value.dateTime);
  if (!m || Number.isNaN(Date.parse(`${m[1]}T${m[2]}Z`)))
    throw invalid(`Cannot convert the literal '${value.dateTime}' to the expected type 'Edm.DateTimeOffset'.`, "BadRequest");
  const timeZone = typeof value.timeZone === "string" && value.timeZone !== "" ? value.timeZone : "UTC";
  if (!validZone(timeZone))
    throw new GraphApiError(
      400,
      "TimeZoneNotSupportedException",
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${timeZone}'.`,
    );
  const time = m[2]!.length === 5 ? `${m[2]}:00` : m[2]!;
  return { local: `${m[1]}T${time}`, timeZone };
}

function parseInstant(raw: string | undefined, name: string): number {
  if (raw === undefined || !OFFSET_DATE_TIME.test(raw))
    throw invalid(
      "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
      "ErrorInvalidParameter",
    );
  const ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/i.test(raw) ? raw : `${raw}Z`);
  if (Number.isNaN(ms)) throw invalid(`Invalid ${name}.`, "ErrorInvalidParameter");
  return ms;
}

/** `Prefer: outlook.timezone="X"` and `Prefer: odata.maxpagesize=N`. */
function preferences(req: Request): { timeZone: string; maxPageSize?: number } {
  const prefer = req.get("prefer") ?? "";
  const tz = /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(prefer)?.[1];
  const size = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer)?.[1];
  return { timeZone: tz && validZone(tz) ? tz : "UTC", ...(size ? { maxPageSize: Math.max(1, Number(size)) } : {}) };
}

function queryValue(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return typeof v === "string" ? v : undefined;
}

// ---- factory ----------------------------------------------------------------

export function createMicrosoftGraphSimulator(opts: MicrosoftGraphSimulatorOptions = {}): MicrosoftGraphSimulatorDefinition {
  const pageSize = opts.pageSize ?? 10;
  const deltaPageSize = opts.deltaPageSize ?? 50;
  const validationTimeoutMs = opts.validationTimeoutMs ?? 10_000;
  const authorize = opts.authorize ?? ((token: string) => token.length > 0);

  let mailboxes = new Map<string, Mailbox>();
  let deltaTokens = new Map<string, DeltaToken>();
  let skipTokens = new Map<string, SkipCursor>();
  let subscriptions = new Map<string, Subscription>();
  let deliveries: GraphNotificationDelivery[] = [];
  let pending = new Set<Promise<void>>();
  let changeKeyCounter = 0;
  let ctxRef: SimulatorContext | undefined;

  const opaque = (bytes = 24): string => randomBytes(bytes).toString("base64url");
  const baseUrl = () => (ctxRef ? ctxRef.baseUrl() : "https://graph.microsoft.com");

  function mailboxOf(owner: string, user?: { email?: string; name?: string }): Mailbox {
    let mb = mailboxes.get(owner);
    if (!mb) {
      mb = {
        owner,
        email: user?.email ?? "user@simulator.test",
        name: user?.name ?? "Simulated User",
        calendarId: `AAMkAD${Buffer.from(`calendar:${owner}`).toString("base64url")}`,
        events: new Map(),
        transactions: new Map(),
        changeSeq: 0,
        counters: emptyCounters(),
      };
      mailboxes.set(owner, mb);
    }
    return mb;
  }

  // ---- auth ----

  function authenticate(req: Request): Mailbox {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "");
    if (!match) throw new GraphApiError(401, "InvalidAuthenticationToken", "Access token is empty.");
    const result = authorize(match[1]!);
    const ok = typeof result === "boolean" ? result : result.ok;
    if (!ok) throw new GraphApiError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
    return typeof result === "object" ? mailboxOf(result.userId ?? "", result.user) : mailboxOf("");
  }

  // ---- rendering ----

  function render(mb: Mailbox, ev: StoredEvent, timeZone: string): GraphEvent {
    const time = (t: StoredTime, ms: number) =>
      ev.isAllDay ? { dateTime: graphDateTime(t.local), timeZone } : { dateTime: formatInZone(ms, timeZone), timeZone };
    const body = isRecord(ev.fields.body) ? ev.fields.body : { contentType: "html", content: "" };
    const location = isRecord(ev.fields.location)
      ? { locationType: "default", uniqueIdType: "unknown", ...ev.fields.location }
      : { displayName: "", locationType: "default", uniqueIdType: "unknown" };
    return clone({
      "@odata.etag": `W/"${ev.changeKey}"`,
      id: ev.id,
      createdDateTime: ev.created,
      lastModifiedDateTime: ev.modified,
      changeKey: ev.changeKey,
      categories: [],
      transactionId: ev.transactionId,
      originalStartTimeZone: ev.start.timeZone,
      originalEndTimeZone: ev.end.timeZone,
      iCalUId: `040000008200E00074C5B7101A82E008${Buffer.from(ev.id).toString("hex").slice(0, 32).toUpperCase()}`,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: "",
      importance: "normal",
      sensitivity: "normal",
      isCancelled: false,
      isOrganizer: true,
      responseRequested: true,
      seriesMasterId: null,
      showAs: "busy",
      type: "singleInstance",
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(ev.id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: false,
      attendees: [],
      organizer: { emailAddress: { name: mb.name, address: mb.email } },
      ...ev.fields,
      bodyPreview: typeof body.content === "string" ? body.content.replace(/<[^>]*>/g, "").slice(0, 255) : "",
      body,
      location,
      isAllDay: ev.isAllDay,
      start: time(ev.start, ev.startMs),
      end: time(ev.end, ev.endMs),
    }) as GraphEvent;
  }

  // ---- event writes ----

  function nextChangeKey(): string {
    return Buffer.from(`ck-${++changeKeyCounter}-${opaque(6)}`).toString("base64");
  }

  /** Validates and applies client properties (a create's body or a PATCH) onto an event. */
  function applyFields(ev: Omit<StoredEvent, "startMs" | "endMs"> & Partial<StoredEvent>, body: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(body)) {
      if (READ_ONLY.has(key) || key.startsWith("@odata.")) continue;
      if (key === "start") ev.start = parseTime(value, "start");
      else if (key === "end") ev.end = parseTime(value, "end");
      else if (key === "isAllDay") {
        if (typeof value !== "boolean") throw invalid("Invalid value for property 'isAllDay'.", "BadRequest");
        ev.isAllDay = value;
      } else if (key === "transactionId") {
        if (value !== null && typeof value !== "string")
          throw invalid("Invalid value for property 'transactionId'.", "BadRequest");
        ev.transactionId = value;
      } else if (value === null) delete ev.fields[key];
      else {
        if (key === "subject" && typeof value !== "string") throw invalid("Invalid value for property 'subject'.", "BadRequest");
        if (key === "body" && !(isRecord(value) && typeof value.content === "string"))
          throw invalid("Invalid value for property 'body'.", "BadRequest");
        if (key === "showAs" && !["free", "tentative", "busy", "oof", "workingElsewhere", "unknown"].includes(String(value)))
          throw invalid("Invalid value for property 'showAs'.", "BadRequest");
        ev.fields[key] = value;
      }
    }
    const startMs = ev.isAllDay ? Date.parse(`${ev.start.local}Z`) : localToUtcMs(ev.start.local, ev.start.timeZone);
    const endMs = ev.isAllDay ? Date.parse(`${ev.end.local}Z`) : localToUtcMs(ev.end.local, ev.end.timeZone);
    if (ev.isAllDay && (!ev.start.local.endsWith("T00:00:00") || !ev.end.local.endsWith("T00:00:00") || endMs <= startMs))
      throw invalid(
        "Your request can't be completed. If an event is marked as all-day, the start and end time must be specified as midnight, and must be at least 24 hours apart.",
        "ErrorPropertyValidationFailure",
      );
    if (endMs < startMs) throw invalid("The end time must be after the start time.", "ErrorPropertyValidationFailure");
    ev.startMs = startMs;
    ev.endMs = endMs;
  }

  function touch(mb: Mailbox, ev: StoredEvent): void {
    ev.changeKey = nextChangeKey();
    ev.modified = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1" + "0000Z");
    ev.changeSeq = ++mb.changeSeq;
  }

  function findEvent(mb: Mailbox, eventId: string): StoredEvent {
    const ev = mb.events.get(eventId);
    if (!ev || ev.deleted) throw notFound();
    return ev;
  }

  function checkIfMatch(req: Request, ev: StoredEvent): void {
    const ifMatch = req.get("if-match");
    if (ifMatch === undefined || ifMatch.trim() === "*") return;
    const wanted = ifMatch.split(",").map((t) => t.trim().replace(/^W\//, ""));
    if (!wanted.includes(`"${ev.changeKey}"`))
      throw new GraphApiError(
        412,
        "ErrorIrresolvableConflict",
        "The change key passed in the request does not match the current change key for the item.",
      );
  }

  function createEvent(mb: Mailbox, body: unknown): { event: StoredEvent; deduplicated: boolean } {
    if (!isRecord(body)) throw invalid("Empty Payload. JSON content expected.", "BadRequest");
    // Graph answers a retried create carrying the same transactionId with the event it already made.
    const tx = typeof body.transactionId === "string" ? body.transactionId : undefined;
    const existingId = tx ? mb.transactions.get(tx) : undefined;
    const existing = existingId ? mb.events.get(existingId) : undefined;
    if (existing && !existing.deleted) {
      mb.counters.deduplicated++;
      return { event: existing, deduplicated: true };
    }
    if (body.start === undefined || body.end === undefined)
      throw invalid("An event requires a start and an end.", "ErrorInvalidParameter");
    const now = new Date().toISOString();
    const draft: Omit<StoredEvent, "startMs" | "endMs"> & Partial<StoredEvent> = {
      id: `AAMkAD${randomBytes(30).toString("base64url")}=`,
      fields: {},
      start: { local: "", timeZone: "UTC" },
      end: { local: "", timeZone: "UTC" },
      isAllDay: false,
      transactionId: null,
      changeKey: "",
      created: now,
      modified: now,
      changeSeq: 0,
      deleted: false,
    };
    applyFields(draft, body);
    const ev = draft as StoredEvent;
    touch(mb, ev);
    ev.created = ev.modified;
    mb.events.set(ev.id, ev);
    if (ev.transactionId) mb.transactions.set(ev.transactionId, ev.id);
    mb.counters.creates++;
    notifyChange(mb, ev, "created");
    return { event: ev, deduplicated: false };
  }

  function updateEvent(mb: Mailbox, eventId: string, req: Request): StoredEvent {
    const ev = findEvent(mb, eventId);
    checkIfMatch(req, ev);
    if (!isRecord(req.body)) throw invalid("Empty Payload. JSON content expected.", "BadRequest");
    // Validate on a copy so a rejected PATCH leaves the event as it was.
    const next = { ...ev, fields: { ...ev.fields } };
    applyFields(next, req.body);
    Object.assign(ev, next);
    touch(mb, ev);
    mb.counters.updates++;
    notifyChange(mb, ev, "updated");
    return ev;
  }

  function deleteEvent(mb: Mailbox, eventId: string, req: Request): void {
    const ev = findEvent(mb, eventId);
    checkIfMatch(req, ev);
    ev.deleted = true;
    if (ev.transactionId && mb.transactions.get(ev.transactionId) === ev.id) mb.transactions.delete(ev.transactionId);
    touch(mb, ev);
    mb.counters.deletes++;
    notifyChange(mb, ev, "deleted");
  }

  // ---- listing ----

  function listEvents(req: Request, mb: Mailbox): Record<string, unknown> {
    const topRaw = queryValue(req, "$top");
    const skipRaw = queryValue(req, "$skip");
    if (topRaw !== undefined && !/^\d+$/.test(topRaw)) throw invalid(`Invalid value '${topRaw}' for $top.`, "BadRequest");
    if (skipRaw !== undefined && !/^\d+$/.test(skipRaw)) throw invalid(`Invalid value '${skipRaw}' for $skip.`, "BadRequest");
    const top = Math.min(Math.max(Number(topRaw ?? pageSize), 1), 1000);
    const skip = Number(skipRaw ?? 0);
    const live = [...mb.events.values()].filter((e) => !e.deleted);
    const page = live.slice(skip, skip + top);
    mb.counters.lists++;
    const { timeZone } = preferences(req);
    const body: Record<string, unknown> = {
      "@odata.context": `${baseUrl()}/v1.0/$metadata#users('${mb.owner || "me"}')/events`,
      value: page.map((e) => render(mb, e, timeZone)),
    };
    if (skip + top < live.length) body["@odata.nextLink"] = `${baseUrl()}/v1.0/me/events?$top=${top}&$skip=${skip + top}`;
    return body;
  }

  const inWindow = (e: StoredEvent, w: DeltaWindow) => !e.deleted && e.startMs < w.endMs && e.endMs > w.startMs;

  function delta(req: Request, mb: Mailbox): Record<string, unknown> {
    const prefs = preferences(req);
    const size = prefs.maxPageSize ?? deltaPageSize;
    const skipToken = queryValue(req, "$skiptoken");
    const deltaToken = queryValue(req, "$deltatoken");
    let cursor: SkipCursor;
    if (skipToken !== undefined) {
      const found = skipTokens.get(skipToken);
      if (!found || found.owner !== mb.owner) throw syncStateNotFound();
      cursor = found;
    } else if (deltaToken !== undefined) {
      const token = deltaTokens.get(deltaToken);
      if (!token || token.owner !== mb.owner) throw syncStateNotFound();
      // Every event changed since the token: live ones in the window in full, the rest as @removed.
      const changed = [...mb.events.values()].filter((e) => e.changeSeq > token.seq).sort((a, b) => a.changeSeq - b.changeSeq);
      cursor = {
        ...token,
        entries: changed.map((e) => ({ id: e.id, removed: !inWindow(e, token) })),
        offset: 0,
        pageSize: size,
        seq: mb.changeSeq,
      };
    } else {
      const startRaw = queryValue(req, "startDateTime");
      const endRaw = queryValue(req, "endDateTime");
      const startMs = parseInstant(startRaw, "startDateTime");
      const endMs = parseInstant(endRaw, "endDateTime");
      if (endMs <= startMs) throw invalid("The end of the time window must be after its start.", "ErrorInvalidParameter");
      const window: DeltaWindow = { owner: mb.owner, startMs, endMs, startRaw: startRaw!, endRaw: endRaw! };
      const selected = [...mb.events.values()].filter((e) => inWindow(e, window));
      cursor = {
        ...window,
        entries: selected.map((e) => ({ id: e.id, removed: false })),
        offset: 0,
        pageSize: size,
        seq: mb.changeSeq,
      };
    }
    mb.counters.deltas++;
    const slice = cursor.entries.slice(cursor.offset, cursor.offset + cursor.pageSize);
    const value = slice.map(({ id, removed }) => {
      const ev = mb.events.get(id)!;
      return removed
        ? { "@odata.type": "#microsoft.graph.event", id, "@removed": { reason: "deleted" } }
        : render(mb, ev, prefs.timeZone);
    });
    const body: Record<string, unknown> = {
      "@odata.context": `${baseUrl()}/v1.0/$metadata#Collection(event)`,
    };
    const nextOffset = cursor.offset + slice.length;
    if (nextOffset < cursor.entries.length) {
      const token = opaque();
      skipTokens.set(token, { ...cursor, offset: nextOffset });
      body["@odata.nextLink"] = `${baseUrl()}/v1.0/me/calendarView/delta?$skiptoken=${token}`;
    } else {
      const token = opaque(32);
      const { entries: _e, offset: _o, pageSize: _p, ...window } = cursor;
      deltaTokens.set(token, { ...window, seq: cursor.seq });
      body["@odata.deltaLink"] = `${baseUrl()}/v1.0/me/calendarView/delta?$deltatoken=${token}`;
    }
    body.value = value;
    return body;
  }

  function syncStateNotFound(): GraphApiError {
    return new GraphApiError(
      410,
      "syncStateNotFound",
      "The sync state generation is not found or has expired. Please perform a full sync without any sync state token.",
    );
  }

  // ---- subscriptions ----

  function subscriptionJson(sub: Subscription): Record<string, unknown> {
    return {
      "@odata.context": `${baseUrl()}/v1.0/$metadata#subscriptions/$entity`,
      id: sub.id,
      resource: sub.resource,
      applicationId: "00000000-0000-0000-0000-000000000000",
      changeType: sub.changeType,
      clientState: sub.clientState ?? null,
      notificationUrl: sub.notificationUrl,
      expirationDateTime: sub.expirationDateTime,
      creatorId: sub.owner || "00000000-0000-0000-0000-000000000000",
      latestSupportedTlsVersion: "v1_2",
      notificationContentType: "application/json",
    };
  }

  function parseExpiration(value: unknown): string {
    if (typeof value !== "string" || Number.isNaN(Date.parse(value)))
      throw invalid("expirationDateTime is a required property for subscription creation.", "InvalidRequest");
    const ms = Date.parse(value);
    if (ms <= Date.now()) throw invalid("Subscription expiration date must be in the future.", "InvalidRequest");
    if (ms > Date.now() + MAX_SUBSCRIPTION_MINUTES * 60_000)
      throw invalid(`Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`, "InvalidRequest");
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1" + "0000Z");
  }

  /** Graph's handshake: POST ?validationToken=… and expect 200 text/plain with the token as the body, within the timeout. */
  async function validateEndpoint(notificationUrl: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const url = new URL(notificationUrl);
    url.searchParams.set("validationToken", token);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "text/plain; charset=utf-8" },
        body: "",
        signal: AbortSignal.timeout(validationTimeoutMs),
      });
      const text = await res.text();
      return res.status === 200 && (res.headers.get("content-type") ?? "").startsWith("text/plain") && text === token;
    } catch {
      return false;
    }
  }

  async function createSubscription(mb: Mailbox, body: unknown): Promise<Subscription> {
    if (!isRecord(body)) throw invalid("Empty Payload. JSON content expected.", "BadRequest");
    const { changeType, notificationUrl, resource, clientState } = body;
    if (typeof changeType !== "string" || changeType === "")
      throw invalid("changeType is a required property for subscription creation.", "InvalidRequest");
    const changeTypes = changeType.split(",").map((c) => c.trim());
    if (changeTypes.some((c) => !["created", "updated", "deleted"].includes(c)))
      throw invalid(`Invalid 'changeType' attribute: '${changeType}'.`, "InvalidRequest");
    // Graph demands HTTPS; the simulator also takes http so a hub on localhost can be the receiver.
    if (typeof notificationUrl !== "string" || !/^https?:\/\//i.test(notificationUrl))
      throw invalid("Invalid notification url: the url must be an https url.", "InvalidRequest");
    if (typeof resource !== "string" || !/^\/?me\/(events|calendars\/[^/]+\/events)$/i.test(resource))
      throw invalid(`Resource '${String(resource)}' is not supported.`, "ExtensionError");
    if (clientState !== undefined && (typeof clientState !== "string" || clientState.length > 128))
      throw invalid("clientState must be at most 128 characters.", "InvalidRequest");
    const expirationDateTime = parseExpiration(body.expirationDateTime);
    if (!(await validateEndpoint(notificationUrl)))
      throw invalid(
        "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        "ValidationError",
      );
    const sub: Subscription = {
      id: randomUUID(),
      owner: mb.owner,
      resource,
      changeType,
      changeTypes,
      notificationUrl,
      ...(typeof clientState === "string" ? { clientState } : {}),
      expirationDateTime,
      deleted: false,
    };
    subscriptions.set(sub.id, sub);
    return sub;
  }

  function findSubscription(mb: Mailbox, id: string): Subscription {
    const sub = subscriptions.get(id);
    if (!sub || sub.deleted || sub.owner !== mb.owner)
      throw new GraphApiError(404, "ResourceNotFound", "The object was not found.");
    return sub;
  }

  function notifyChange(mb: Mailbox, ev: StoredEvent, changeType: "created" | "updated" | "deleted"): void {
    const now = Date.now();
    for (const sub of subscriptions.values()) {
      if (sub.deleted || sub.owner !== mb.owner || !sub.changeTypes.includes(changeType)) continue;
      if (Date.parse(sub.expirationDateTime) <= now) continue;
      const resource = `Users/${mb.owner || "me"}/Events/${ev.id}`;
      const payload = {
        value: [
          {
            subscriptionId: sub.id,
            subscriptionExpirationDateTime: sub.expirationDateTime,
            changeType,
            resource,
            resourceData: {
              "@odata.type": "#Microsoft.Graph.Event",
              "@odata.id": resource,
              "@odata.etag": `W/"${ev.changeKey}"`,
              id: ev.id,
            },
            clientState: sub.clientState ?? null,
            tenantId: TENANT_ID,
          },
        ],
      };
      const delivery: GraphNotificationDelivery = { subscriptionId: sub.id, changeType, eventId: ev.id };
      deliveries.push(delivery);
      // Delivered after the API call answered, as Graph does (asynchronously).
      const p = new Promise<void>((resolve) => setImmediate(resolve))
        .then(async () => {
          const res = await fetch(sub.notificationUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(validationTimeoutMs),
          });
          await res.arrayBuffer();
          delivery.status = res.status;
        })
        .catch((err: unknown) => {
          delivery.error = err instanceof Error ? err.message : String(err);
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    }
  }

  // ---- routes ----

  type Handler = (req: Request, res: Response, mb: Mailbox) => void | Promise<void>;
  const api =
    (handler: Handler) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        await handler(req, res, authenticate(req));
      } catch (err) {
        // Express 4 does not catch rejected promises: hand anything unexpected to the error handler.
        if (!(err instanceof GraphApiError)) return next(err);
        if (err.status === 401) res.set("WWW-Authenticate", 'Bearer realm="", error="invalid_token"');
        sendError(res, err);
      }
    };
  const param = (req: Request, name: string): string => String(req.params[name]);

  function routes(router: Router, ctx: SimulatorContext): void {
    ctxRef = ctx;
    const r = express.Router();
    r.use(express.json({ limit: "4mb", type: () => true }));

    r.get(
      "/me/calendars",
      api((_req, res, mb) => {
        res.json({
          "@odata.context": `${baseUrl()}/v1.0/$metadata#users('${mb.owner || "me"}')/calendars`,
          value: [
            {
              id: mb.calendarId,
              name: "Calendar",
              color: "auto",
              hexColor: "",
              isDefaultCalendar: true,
              changeKey: "AAAAAA==",
              canShare: true,
              canViewPrivateItems: true,
              canEdit: true,
              allowedOnlineMeetingProviders: ["teamsForBusiness"],
              defaultOnlineMeetingProvider: "teamsForBusiness",
              isTallyingResponses: true,
              isRemovable: false,
              owner: { name: mb.name, address: mb.email },
            },
          ],
        });
      }),
    );
    r.get(
      "/me/events",
      api((req, res, mb) => {
        res.json(listEvents(req, mb));
      }),
    );
    r.post(
      "/me/events",
      api((req, res, mb) => {
        const { event } = createEvent(mb, req.body);
        res.status(201).json(render(mb, event, preferences(req).timeZone));
      }),
    );
    r.get(
      "/me/calendarView/delta",
      api((req, res, mb) => {
        res.json(delta(req, mb));
      }),
    );
    r.get(
      "/me/events/:id",
      api((req, res, mb) => {
        const ev = findEvent(mb, param(req, "id"));
        mb.counters.gets++;
        res.json(render(mb, ev, preferences(req).timeZone));
      }),
    );
    r.patch(
      "/me/events/:id",
      api((req, res, mb) => {
        res.json(render(mb, updateEvent(mb, param(req, "id"), req), preferences(req).timeZone));
      }),
    );
    r.delete(
      "/me/events/:id",
      api((req, res, mb) => {
        deleteEvent(mb, param(req, "id"), req);
        res.status(204).end();
      }),
    );
    r.get(
      "/subscriptions",
      api((_req, res, mb) => {
        const value = [...subscriptions.values()].filter((s) => !s.deleted && s.owner === mb.owner).map(subscriptionJson);
        res.json({ "@odata.context": `${baseUrl()}/v1.0/$metadata#subscriptions`, value });
      }),
    );
    r.post(
      "/subscriptions",
      api(async (req, res, mb) => {
        res.status(201).json(subscriptionJson(await createSubscription(mb, req.body)));
      }),
    );
    r.get(
      "/subscriptions/:id",
      api((req, res, mb) => {
        res.json(subscriptionJson(findSubscription(mb, param(req, "id"))));
      }),
    );
    r.patch(
      "/subscriptions/:id",
      api((req, res, mb) => {
        const sub = findSubscription(mb, param(req, "id"));
        const body: unknown = req.body;
        if (!isRecord(body)) throw invalid("Empty Payload. JSON content expected.", "BadRequest");
        sub.expirationDateTime = parseExpiration(body.expirationDateTime);
        res.json(subscriptionJson(sub));
      }),
    );
    r.delete(
      "/subscriptions/:id",
      api((req, res, mb) => {
        findSubscription(mb, param(req, "id")).deleted = true;
        res.status(204).end();
      }),
    );
    r.use((req: Request, res: Response) =>
      sendError(
        res,
        new GraphApiError(400, "BadRequest", `Resource not found for the segment '${req.path.split("/").pop() ?? ""}'.`),
      ),
    );
    // Malformed JSON bodies answer like Graph.
    r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      const status = isRecord(err) && typeof err.status === "number" ? err.status : 500;
      if (status === 400) return sendError(res, new GraphApiError(400, "BadRequest", "Unable to read JSON request payload."));
      if (status === 413) return sendError(res, new GraphApiError(413, "RequestEntityTooLarge", "Request entity too large."));
      next(err);
    });
    router.use("/v1.0", r);
  }

  // ---- control ----

  const control: MicrosoftGraphControl = {
    events(owner = "") {
      const mb = mailboxes.get(owner);
      return mb ? [...mb.events.values()].filter((e) => !e.deleted).map((e) => render(mb, e, "UTC")) : [];
    },
    event(eventId, owner = "") {
      const mb = mailboxes.get(owner);
      const ev = mb?.events.get(eventId);
      return mb && ev && !ev.deleted ? render(mb, ev, "UTC") : undefined;
    },
    counters(owner = "") {
      return { ...(mailboxes.get(owner)?.counters ?? emptyCounters()) };
    },
    resetCounters() {
      for (const mb of mailboxes.values()) mb.counters = emptyCounters();
    },
    expireDeltaTokens() {
      const n = deltaTokens.size;
      deltaTokens = new Map();
      skipTokens = new Map();
      return n;
    },
    subscriptions: () =>
      [...subscriptions.values()].filter((s) => !s.deleted).map(({ changeTypes: _c, deleted: _d, ...rest }) => ({ ...rest })),
    deliveries: () => deliveries.map((d) => ({ ...d })),
    async flushNotifications() {
      while (pending.size) await Promise.all([...pending]);
    },
    reset() {
      mailboxes = new Map();
      deltaTokens = new Map();
      skipTokens = new Map();
      subscriptions = new Map();
      deliveries = [];
      pending = new Set();
    },
  };

  function controlRoutes(router: Router): void {
    const r = express.Router();
    r.use(express.json());
    r.get("/state", (_req, res) => {
      res.json({
        mailboxes: [...mailboxes.values()].map((mb) => ({
          owner: mb.owner,
          email: mb.email,
          events: control.events(mb.owner),
          counters: mb.counters,
        })),
        subscriptions: control.subscriptions(),
        deliveries: control.deliveries(),
      });
    });
    r.post("/expire-delta-tokens", (_req, res) => {
      res.json({ expired: control.expireDeltaTokens() });
    });
    r.post("/reset", (_req, res) => {
      control.reset();
      res.json({ ok: true });
    });
    router.use("/microsoft-graph", r);
  }

  return { name: "microsoft-graph", routes, controlRoutes, control };
}
