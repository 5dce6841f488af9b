// Google Calendar API v3 simulator: calendarList, events (CRUD, list with
// pagination / filters / incremental sync), events.watch and channels.stop,
// answering with Google's status codes and error JSON so the real `googleapis`
// SDK can be pointed at it (rootUrl: sim.url + "/").
import express from "express";
import type { NextFunction, Request, Response, Router } from "express";
import { randomBytes, randomUUID } from "node:crypto";
import type { SimulatorContext, SimulatorDefinition } from "../harness.js";

// ---- public types -----------------------------------------------------------

/** What `authorize` may answer; an OAuth simulator's `checkAccessToken` result fits (its user's email becomes the primary calendar id). */
export type GoogleCalendarAuthResult = boolean | { ok: boolean; user?: { email?: string } };

export interface GoogleCalendarSimulatorOptions {
  /** Checks the bearer token of every API call. Default: any non-empty token is accepted. */
  authorize?: (accessToken: string) => GoogleCalendarAuthResult;
  /** Page size of events.list when the client sends no maxResults (Google: 250). */
  pageSize?: number;
}

export interface GoogleCalendarCounters {
  inserts: number;
  updates: number; // PUT and PATCH
  deletes: number;
  lists: number; // events.list calls (each page counts)
  gets: number;
  watches: number;
}

export interface GoogleCalendarSnapshot {
  id: string;
  summary: string;
  timeZone: string;
  /** "" for the default user (authorize gave no email), else the owner's email. */
  owner: string;
  primary: boolean;
}

/** An event resource exactly as the API returns it (deleted events keep their last state with status "cancelled"). */
export type GoogleCalendarEvent = Record<string, unknown> & {
  kind: "calendar#event";
  id: string;
  etag: string;
  status: "confirmed" | "tentative" | "cancelled";
  created: string;
  updated: string;
  iCalUID: string;
  sequence: number;
};

export interface GoogleCalendarChannelSnapshot {
  id: string;
  resourceId: string;
  resourceUri: string;
  calendarId: string;
  address: string;
  token?: string;
  expiration: number; // epoch ms
  messageNumber: number; // last X-Goog-Message-Number sent (0 = none yet)
  stopped: boolean;
}

export interface GoogleCalendarNotifyResult {
  channelId: string;
  state: "sync" | "exists";
  messageNumber: number;
  status?: number; // HTTP status answered by the receiver
  error?: string; // delivery failure (connection refused, ...)
}

export interface GoogleCalendarControl {
  calendars(): GoogleCalendarSnapshot[];
  /** Adds a (secondary) calendar; owner "" (default) is the user that authorize gives no email for. */
  addCalendar(input: { id: string; summary?: string; timeZone?: string; owner?: string }): GoogleCalendarSnapshot;
  /** Events of a calendar in creation order ("primary" = the default user's primary). Deleted ones only with includeDeleted. */
  events(calendarId: string, opts?: { includeDeleted?: boolean }): GoogleCalendarEvent[];
  event(calendarId: string, eventId: string): GoogleCalendarEvent | undefined;
  counters(calendarId: string): GoogleCalendarCounters;
  allCounters(): Record<string, GoogleCalendarCounters>;
  resetCounters(): void;
  /** Invalidates every sync token handed out so far: the next incremental sync answers 410 fullSyncRequired. Returns how many. */
  expireSyncTokens(): number;
  channels(): GoogleCalendarChannelSnapshot[];
  /**
   * Sends an "exists" push notification to every live (not stopped, not expired) channel watching the calendar, after
   * that channel's initial "sync" message has been delivered. Resolves once every POST has been answered or failed.
   */
  notify(calendarId: string): Promise<GoogleCalendarNotifyResult[]>;
  /** Every notification attempted so far, in order. */
  deliveries(): GoogleCalendarNotifyResult[];
  /** Drops all calendars, events, tokens, channels and counters. */
  reset(): void;
}

export interface GoogleCalendarSimulatorDefinition extends SimulatorDefinition {
  control: GoogleCalendarControl;
}

// ---- internal state ---------------------------------------------------------

interface StoredEvent {
  resource: GoogleCalendarEvent;
  changeSeq: number; // calendar change sequence number of the last write
  deleted: boolean;
}

interface Calendar extends GoogleCalendarSnapshot {
  events: Map<string, StoredEvent>; // insertion order = creation order
  changeSeq: number;
}

interface Channel extends GoogleCalendarChannelSnapshot {
  syncDelivery: Promise<void>;
}

interface ListQuery {
  calendarId: string;
  maxResults: number;
  showDeleted: boolean;
  singleEvents: boolean;
  orderBy?: "startTime" | "updated";
  timeMin?: number;
  timeMax?: number;
  privateProps: [string, string][];
  sharedProps: [string, string][];
  sinceSeq?: number; // incremental sync
}

interface Cursor {
  query: ListQuery;
  ids: string[]; // snapshot taken on the first page
  offset: number;
  syncSeq: number; // calendar changeSeq when the listing started
}

type ErrorDetail = { domain?: string; reason: string; message?: string; location?: string; locationType?: string };

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly detail: ErrorDetail,
    readonly status?: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string, reason = "invalid", location?: string): ApiError =>
  new ApiError(400, message, { reason, ...(location ? { location, locationType: "parameter" } : {}) });
const notFound = (): ApiError => new ApiError(404, "Not Found", { reason: "notFound" });
const deletedError = (): ApiError => new ApiError(410, "Resource has been deleted", { reason: "deleted" });

function sendError(res: Response, err: ApiError): void {
  const detail = { message: err.message, domain: err.detail.domain ?? "global", ...err.detail };
  res.status(err.code).json({
    error: { code: err.code, message: err.message, errors: [detail], ...(err.status ? { status: err.status } : {}) },
  });
}

const EVENT_ID = /^[a-v0-9]{5,1024}$/;
const RFC3339_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// Fields the server owns; whatever a client sends for them is ignored.
const READ_ONLY_FIELDS = ["kind", "etag", "created", "updated", "creator", "organizer", "htmlLink", "iCalUID", "sequence"];
const MAX_RESULTS_LIMIT = 2500;
const DEFAULT_CHANNEL_TTL_MS = 7 * 24 * 3600 * 1000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

function emptyCounters(): GoogleCalendarCounters {
  return { inserts: 0, updates: 0, deletes: 0, lists: 0, gets: 0, watches: 0 };
}

/** Start/end instant in epoch ms (all-day dates count from UTC midnight). */
function instant(value: unknown): number | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.dateTime === "string") return Date.parse(value.dateTime);
  if (typeof value.date === "string") return Date.parse(`${value.date}T00:00:00Z`);
  return undefined;
}

function validateTime(value: unknown, which: "start" | "end"): void {
  if (value === undefined || value === null) throw new ApiError(400, `Missing ${which} time.`, { reason: "required" });
  if (!isRecord(value)) throw badRequest(`Invalid ${which} time.`);
  const { dateTime, date } = value;
  if (dateTime !== undefined && date !== undefined) throw badRequest(`Invalid ${which} time.`);
  if (typeof dateTime === "string") {
    // Google accepts a dateTime without offset only together with timeZone.
    const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(dateTime);
    if (
      !(RFC3339_WITH_OFFSET.test(dateTime) || (local && typeof value.timeZone === "string")) ||
      Number.isNaN(Date.parse(dateTime))
    )
      throw badRequest(`Invalid ${which} time.`);
  } else if (typeof date === "string") {
    if (!DATE_ONLY.test(date) || Number.isNaN(Date.parse(date))) throw badRequest(`Invalid ${which} time.`);
  } else {
    throw new ApiError(400, `Missing ${which} time.`, { reason: "required" });
  }
}

/** Validates a client event body after merging; returns the client-writable fields. */
function validateEventBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY_FIELDS.includes(key) || key === "id" || value === undefined || value === null) continue;
    out[key] = value;
  }
  for (const field of ["summary", "description", "location"]) {
    if (out[field] !== undefined && typeof out[field] !== "string") throw badRequest(`Invalid value for: ${field}`);
  }
  if (out.status !== undefined && !["confirmed", "tentative", "cancelled"].includes(out.status as string))
    throw badRequest("Invalid value for: status");
  validateTime(out.start, "start");
  validateTime(out.end, "end");
  const start = instant(out.start)!;
  const end = instant(out.end)!;
  if (end < start) throw badRequest("The specified time range is empty.", "timeRangeEmpty");
  const ext = out.extendedProperties;
  if (ext !== undefined) {
    if (!isRecord(ext)) throw badRequest("Invalid value for: extendedProperties");
    for (const scope of ["private", "shared"]) {
      const props = ext[scope];
      if (props === undefined) continue;
      if (!isRecord(props) || Object.values(props).some((v) => typeof v !== "string"))
        throw badRequest(`Invalid value for: extendedProperties.${scope}`);
    }
  }
  return out;
}

/** Patch semantics: objects merge key by key, null clears, arrays and start/end are replaced whole. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (depth === 0 && (key === "start" || key === "end")) out[key] = value;
    else if (isRecord(value) && isRecord(out[key])) out[key] = mergePatch(out[key] as Record<string, unknown>, value, depth + 1);
    else out[key] = value;
  }
  return out;
}

function queryValues(req: Request, name: string): string[] {
  const raw = req.query[name];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter((v): v is string => typeof v === "string");
}

function queryValue(req: Request, name: string): string | undefined {
  return queryValues(req, name)[0];
}

function queryBool(req: Request, name: string): boolean {
  const v = queryValue(req, name);
  if (v === undefined) return false;
  if (v === "true") return true;
  if (v === "false") return false;
  throw badRequest(`Invalid value for: ${name}`, "invalidParameter", name);
}

function queryTime(req: Request, name: string): number | undefined {
  const v = queryValue(req, name);
  if (v === undefined) return undefined;
  if (!RFC3339_WITH_OFFSET.test(v) || Number.isNaN(Date.parse(v))) throw badRequest(`Bad Request`, "badRequest", name);
  return Date.parse(v);
}

function parseProps(req: Request, name: string): [string, string][] {
  return queryValues(req, name).map((spec) => {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw badRequest(`Invalid value for: ${name}`, "invalidParameter", name);
    return [spec.slice(0, eq), spec.slice(eq + 1)];
  });
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

// ---- factory ----------------------------------------------------------------

export function createGoogleCalendarSimulator(opts: GoogleCalendarSimulatorOptions = {}): GoogleCalendarSimulatorDefinition {
  const pageSize = opts.pageSize ?? 250;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_RESULTS_LIMIT)
    throw new Error(`google-calendar simulator: pageSize must be an integer 1..${MAX_RESULTS_LIMIT}`);
  const authorize = opts.authorize ?? ((token: string) => token.length > 0);

  let calendars = new Map<string, Calendar>();
  let counters = new Map<string, GoogleCalendarCounters>();
  let syncTokens = new Map<string, { calendarId: string; seq: number }>();
  let cursors = new Map<string, Cursor>();
  let channels = new Map<string, Channel>();
  let deliveries: GoogleCalendarNotifyResult[] = [];
  let etagCounter = Date.now() * 1000;
  let ctxRef: SimulatorContext | undefined;

  const nextEtag = (): string => `"${++etagCounter}"`;
  const opaque = (bytes = 18): string => randomBytes(bytes).toString("base64url");
  const countersOf = (calendarId: string): GoogleCalendarCounters => {
    let c = counters.get(calendarId);
    if (!c) counters.set(calendarId, (c = emptyCounters()));
    return c;
  };

  function createCalendar(input: {
    id: string;
    summary?: string;
    timeZone?: string;
    owner?: string;
    primary?: boolean;
  }): Calendar {
    if (calendars.has(input.id)) throw new Error(`google-calendar simulator: calendar ${input.id} already exists`);
    const cal: Calendar = {
      id: input.id,
      summary: input.summary ?? input.id,
      timeZone: input.timeZone ?? "UTC",
      owner: input.owner ?? "",
      primary: input.primary ?? false,
      events: new Map(),
      changeSeq: 0,
    };
    calendars.set(cal.id, cal);
    return cal;
  }

  /** The user's primary calendar: its id is the user's email, or "primary" for the default user. */
  function primaryOf(owner: string): Calendar {
    const id = owner || "primary";
    return calendars.get(id) ?? createCalendar({ id, owner, primary: true, summary: owner || "Primary calendar" });
  }

  function resolveCalendar(owner: string, calendarId: string): Calendar {
    if (calendarId === "primary" || calendarId === (owner || "primary")) return primaryOf(owner);
    const cal = calendars.get(calendarId);
    if (!cal || cal.owner !== owner) throw notFound();
    return cal;
  }

  // The default user's primary calendar is stored under the id "primary"; inspecting never creates calendars.
  const controlCalendar = (calendarId: string): Calendar | undefined => calendars.get(calendarId);

  function snapshot(cal: Calendar): GoogleCalendarSnapshot {
    return { id: cal.id, summary: cal.summary, timeZone: cal.timeZone, owner: cal.owner, primary: cal.primary };
  }

  function publicEvent(stored: StoredEvent, minimalIfDeleted: boolean): GoogleCalendarEvent {
    if (stored.deleted && minimalIfDeleted) {
      // Like Google, a deleted event in a listing only guarantees its id and status.
      const { kind, etag, id, status, updated } = stored.resource;
      return { kind, etag, id, status, updated } as GoogleCalendarEvent;
    }
    return clone(stored.resource);
  }

  // ---- auth ----

  function authenticate(req: Request): string {
    const header = req.get("authorization");
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
    if (!match) {
      throw new ApiError(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        { domain: "global", reason: "required", location: "Authorization", locationType: "header", message: "Login Required." },
        "UNAUTHENTICATED",
      );
    }
    const result = authorize(match[1]!);
    const ok = typeof result === "boolean" ? result : result.ok;
    if (!ok) {
      throw new ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        {
          domain: "global",
          reason: "authError",
          location: "Authorization",
          locationType: "header",
          message: "Invalid Credentials",
        },
        "UNAUTHENTICATED",
      );
    }
    return typeof result === "object" ? (result.user?.email ?? "") : "";
  }

  // ---- event writes ----

  function touch(cal: Calendar, stored: StoredEvent, now: string): void {
    stored.resource.etag = nextEtag();
    stored.resource.updated = now;
    stored.changeSeq = ++cal.changeSeq;
  }

  function findEvent(cal: Calendar, eventId: string): StoredEvent {
    const stored = cal.events.get(eventId);
    if (!stored) throw notFound();
    if (stored.deleted) throw deletedError();
    return stored;
  }

  function checkIfMatch(req: Request, stored: StoredEvent): void {
    const ifMatch = req.get("if-match");
    if (ifMatch === undefined || ifMatch.trim() === "*") return;
    const wanted = ifMatch.split(",").map((t) => t.trim().replace(/^W\//, ""));
    if (!wanted.includes(stored.resource.etag)) {
      throw new ApiError(412, "Precondition Failed", {
        reason: "conditionNotMet",
        location: "If-Match",
        locationType: "header",
      });
    }
  }

  function insertEvent(cal: Calendar, body: unknown): GoogleCalendarEvent {
    if (!isRecord(body)) throw badRequest("Bad Request", "badRequest");
    let id: string;
    if (body.id !== undefined) {
      if (typeof body.id !== "string" || !EVENT_ID.test(body.id)) throw badRequest("Invalid resource id value.");
      id = body.id;
      if (cal.events.has(id)) throw new ApiError(409, "The requested identifier already exists.", { reason: "duplicate" });
    } else {
      do id = randomUUID().replace(/-/g, "").replace(/[w-z]/g, "v").slice(0, 26);
      while (cal.events.has(id));
    }
    const fields = validateEventBody(body);
    const now = new Date().toISOString();
    const owner = { email: cal.id, self: true };
    const resource = {
      ...fields,
      kind: "calendar#event",
      etag: "",
      id,
      status: (fields.status as GoogleCalendarEvent["status"] | undefined) ?? "confirmed",
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${cal.id}`).toString("base64url")}`,
      created: now,
      updated: now,
      creator: owner,
      organizer: owner,
      iCalUID: `${id}@google.com`,
      sequence: typeof body.sequence === "number" && Number.isInteger(body.sequence) && body.sequence >= 0 ? body.sequence : 0,
      eventType: (fields.eventType as string | undefined) ?? "default",
    } as GoogleCalendarEvent;
    const stored: StoredEvent = { resource, changeSeq: 0, deleted: resource.status === "cancelled" };
    touch(cal, stored, now);
    cal.events.set(id, stored);
    countersOf(cal.id).inserts++;
    return clone(resource);
  }

  function updateEvent(cal: Calendar, eventId: string, req: Request, mode: "put" | "patch"): GoogleCalendarEvent {
    const stored = findEvent(cal, eventId);
    checkIfMatch(req, stored);
    const body: unknown = req.body;
    if (!isRecord(body)) throw badRequest("Bad Request", "badRequest");
    if (body.id !== undefined && body.id !== eventId) throw badRequest("Invalid resource id value.");
    const current = stored.resource;
    const clientFields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(current))
      if (!READ_ONLY_FIELDS.includes(key) && key !== "id") clientFields[key] = value;
    const merged = mode === "patch" ? mergePatch(clientFields, body) : body;
    const fields = validateEventBody(merged);
    const now = new Date().toISOString();
    const timeChanged =
      JSON.stringify(fields.start) !== JSON.stringify(current.start) ||
      JSON.stringify(fields.end) !== JSON.stringify(current.end);
    const next = {
      ...fields,
      kind: current.kind,
      etag: current.etag,
      id: current.id,
      status: (fields.status as GoogleCalendarEvent["status"] | undefined) ?? "confirmed",
      htmlLink: current.htmlLink,
      created: current.created,
      updated: current.updated,
      creator: current.creator,
      organizer: current.organizer,
      iCalUID: current.iCalUID,
      sequence: current.sequence + (timeChanged ? 1 : 0),
      eventType: (fields.eventType as string | undefined) ?? "default",
    } as GoogleCalendarEvent;
    stored.resource = next;
    stored.deleted = next.status === "cancelled";
    touch(cal, stored, now);
    countersOf(cal.id).updates++;
    return clone(next);
  }

  function deleteEvent(cal: Calendar, eventId: string, req: Request): void {
    const stored = findEvent(cal, eventId);
    checkIfMatch(req, stored);
    stored.resource.status = "cancelled";
    stored.deleted = true;
    touch(cal, stored, new Date().toISOString());
    countersOf(cal.id).deletes++;
  }

  // ---- list ----

  function matches(stored: StoredEvent, q: ListQuery): boolean {
    if (q.sinceSeq !== undefined) return stored.changeSeq > q.sinceSeq; // incremental: every change, deleted included
    if (stored.deleted && !q.showDeleted) return false;
    const r = stored.resource;
    if (q.timeMin !== undefined && (instant(r.end) ?? Infinity) <= q.timeMin) return false;
    if (q.timeMax !== undefined && (instant(r.start) ?? -Infinity) >= q.timeMax) return false;
    const ext = isRecord(r.extendedProperties) ? r.extendedProperties : {};
    const priv = isRecord(ext.private) ? ext.private : {};
    const shared = isRecord(ext.shared) ? ext.shared : {};
    if (q.privateProps.some(([k, v]) => priv[k] !== v)) return false;
    if (q.sharedProps.some(([k, v]) => shared[k] !== v)) return false;
    return true;
  }

  function parseListQuery(req: Request, cal: Calendar): { query: ListQuery; pageToken?: string } {
    const maxRaw = queryValue(req, "maxResults");
    let maxResults = pageSize;
    if (maxRaw !== undefined) {
      const n = Number(maxRaw);
      if (!/^\d+$/.test(maxRaw) || n < 1) throw badRequest("Invalid value for: maxResults", "invalidParameter", "maxResults");
      maxResults = Math.min(n, MAX_RESULTS_LIMIT);
    }
    const orderBy = queryValue(req, "orderBy");
    if (orderBy !== undefined && orderBy !== "startTime" && orderBy !== "updated")
      throw badRequest(`Invalid value for: orderBy`, "invalidParameter", "orderBy");
    const singleEvents = queryBool(req, "singleEvents");
    if (orderBy === "startTime" && !singleEvents)
      throw badRequest("The requested ordering is not available for the particular query.", "badRequest");
    const query: ListQuery = {
      calendarId: cal.id,
      maxResults,
      showDeleted: queryBool(req, "showDeleted"),
      singleEvents,
      orderBy,
      timeMin: queryTime(req, "timeMin"),
      timeMax: queryTime(req, "timeMax"),
      privateProps: parseProps(req, "privateExtendedProperty"),
      sharedProps: parseProps(req, "sharedExtendedProperty"),
    };
    if (query.timeMin !== undefined && query.timeMax !== undefined && query.timeMax <= query.timeMin)
      throw badRequest("The specified time range is empty.", "timeRangeEmpty", "timeMax");
    const syncToken = queryValue(req, "syncToken");
    if (syncToken !== undefined) {
      const conflicting = [
        "timeMin",
        "timeMax",
        "privateExtendedProperty",
        "sharedExtendedProperty",
        "q",
        "iCalUID",
        "orderBy",
        "updatedMin",
      ];
      const bad = conflicting.find((p) => req.query[p] !== undefined);
      if (bad) throw badRequest(`Sync token cannot be used with the ${bad} parameter.`, "invalid", bad);
      const token = syncTokens.get(syncToken);
      if (!token || token.calendarId !== cal.id) {
        throw new ApiError(410, "Sync token is no longer valid, a full sync is required.", {
          domain: "calendar",
          reason: "fullSyncRequired",
        });
      }
      query.sinceSeq = token.seq;
    }
    return { query, pageToken: queryValue(req, "pageToken") };
  }

  function startCursor(cal: Calendar, query: ListQuery): Cursor {
    const selected = [...cal.events.values()].filter((e) => matches(e, query));
    if (query.sinceSeq !== undefined) selected.sort((a, b) => a.changeSeq - b.changeSeq);
    else if (query.orderBy === "updated") selected.sort((a, b) => a.resource.updated.localeCompare(b.resource.updated));
    else if (query.orderBy === "startTime")
      selected.sort((a, b) => (instant(a.resource.start) ?? 0) - (instant(b.resource.start) ?? 0));
    return { query, ids: selected.map((e) => e.resource.id), offset: 0, syncSeq: cal.changeSeq };
  }

  function listEvents(req: Request, cal: Calendar): Record<string, unknown> {
    const { query, pageToken } = parseListQuery(req, cal);
    let cursor: Cursor;
    if (pageToken !== undefined) {
      const found = cursors.get(pageToken);
      if (!found || found.query.calendarId !== cal.id) throw badRequest("Invalid page token value.", "invalid", "pageToken");
      // Later pages follow the first page's query; only maxResults may change.
      cursor = { ...found, query: { ...found.query, maxResults: query.maxResults } };
    } else {
      cursor = startCursor(cal, query);
    }
    countersOf(cal.id).lists++;
    const pageIds = cursor.ids.slice(cursor.offset, cursor.offset + cursor.query.maxResults);
    const items = pageIds
      .map((id) => cal.events.get(id))
      .filter((e): e is StoredEvent => e !== undefined)
      .map((e) => publicEvent(e, true));
    const body: Record<string, unknown> = {
      kind: "calendar#events",
      etag: `"p${cal.changeSeq}"`,
      summary: cal.summary,
      description: "",
      updated: new Date().toISOString(),
      timeZone: cal.timeZone,
      accessRole: "owner",
      defaultReminders: [],
    };
    const nextOffset = cursor.offset + pageIds.length;
    if (nextOffset < cursor.ids.length) {
      const token = opaque();
      cursors.set(token, { ...cursor, offset: nextOffset });
      body.nextPageToken = token;
    } else {
      const token = opaque(24);
      syncTokens.set(token, { calendarId: cal.id, seq: cursor.syncSeq });
      body.nextSyncToken = token;
    }
    body.items = items;
    return body;
  }

  // ---- push notifications ----

  async function deliver(channel: Channel, state: "sync" | "exists"): Promise<GoogleCalendarNotifyResult> {
    const messageNumber = ++channel.messageNumber;
    const result: GoogleCalendarNotifyResult = { channelId: channel.id, state, messageNumber };
    const headers: Record<string, string> = {
      "X-Goog-Channel-ID": channel.id,
      "X-Goog-Channel-Expiration": httpDate(channel.expiration),
      "X-Goog-Resource-ID": channel.resourceId,
      "X-Goog-Resource-URI": channel.resourceUri,
      "X-Goog-Resource-State": state,
      "X-Goog-Message-Number": String(messageNumber),
    };
    if (channel.token !== undefined) headers["X-Goog-Channel-Token"] = channel.token;
    deliveries.push(result);
    try {
      const res = await fetch(channel.address, { method: "POST", headers, body: "", signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      result.status = res.status;
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
    }
    return result;
  }

  const live = (ch: Channel): boolean => !ch.stopped && ch.expiration > Date.now();

  function watch(req: Request, cal: Calendar): Record<string, unknown> {
    const body: unknown = req.body;
    if (!isRecord(body)) throw badRequest("Bad Request", "badRequest");
    const { id, type, address, token, expiration } = body;
    if (typeof id !== "string" || id.length === 0) throw new ApiError(400, "Required", { reason: "required", location: "id" });
    if (id.length > 64) throw badRequest("Invalid channel id.", "invalid", "id");
    if (type !== "web_hook" && type !== "webhook") throw badRequest(`Invalid value for: type`, "invalid", "type");
    if (typeof address !== "string" || !/^https?:\/\//i.test(address))
      throw new ApiError(400, "WebHook callback must be HTTPS: " + String(address), { reason: "push.webhookUrlNotHttps" });
    if (token !== undefined && typeof token !== "string") throw badRequest("Invalid value for: token", "invalid", "token");
    if (channels.has(id) && !channels.get(id)!.stopped)
      throw new ApiError(400, `Channel id ${id} not unique`, { domain: "push", reason: "channelIdNotUnique" });
    const now = Date.now();
    let exp = now + DEFAULT_CHANNEL_TTL_MS;
    if (expiration !== undefined) {
      const n = Number(expiration);
      if (!Number.isFinite(n)) throw badRequest("Invalid value for: expiration", "invalid", "expiration");
      if (n > now) exp = Math.min(n, now + 30 * 24 * 3600 * 1000);
    }
    const base = ctxRef ? ctxRef.baseUrl() : "https://www.googleapis.com";
    const channel: Channel = {
      id,
      resourceId: opaque(20),
      resourceUri: `${base}/calendar/v3/calendars/${encodeURIComponent(cal.id)}/events?alt=json`,
      calendarId: cal.id,
      address,
      ...(typeof token === "string" ? { token } : {}),
      expiration: exp,
      messageNumber: 0,
      stopped: false,
      syncDelivery: Promise.resolve(),
    };
    channels.set(id, channel);
    // Google sends the "sync" message right after the channel is created.
    channel.syncDelivery = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await deliver(channel, "sync");
    });
    countersOf(cal.id).watches++;
    return {
      kind: "api#channel",
      id: channel.id,
      resourceId: channel.resourceId,
      resourceUri: channel.resourceUri,
      ...(channel.token !== undefined ? { token: channel.token } : {}),
      expiration: String(channel.expiration),
    };
  }

  function stopChannel(req: Request, owner: string): void {
    const body: unknown = req.body;
    if (!isRecord(body)) throw badRequest("Bad Request", "badRequest");
    const { id, resourceId } = body;
    if (typeof id !== "string" || typeof resourceId !== "string")
      throw new ApiError(400, "Required", { reason: "required", location: typeof id !== "string" ? "id" : "resourceId" });
    const channel = channels.get(id);
    const cal = channel ? calendars.get(channel.calendarId) : undefined;
    if (!channel || channel.stopped || channel.resourceId !== resourceId || !cal || cal.owner !== owner)
      throw new ApiError(404, `Channel '${id}' not found for project 'simulator'`, { reason: "notFound" });
    channel.stopped = true;
  }

  // ---- routes ----

  type Handler = (req: Request, res: Response, owner: string) => void;
  const api =
    (handler: Handler) =>
    (req: Request, res: Response): void => {
      try {
        const owner = authenticate(req);
        handler(req, res, owner);
      } catch (err) {
        if (err instanceof ApiError) {
          if (err.code === 401) res.set("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", error="invalid_token"');
          sendError(res, err);
        } else throw err;
      }
    };
  const param = (req: Request, name: string): string => String(req.params[name]);

  function routes(router: Router, ctx: SimulatorContext): void {
    ctxRef = ctx;
    const r = express.Router();
    r.use(express.json({ limit: "1mb", type: () => true }));

    r.get(
      "/users/me/calendarList",
      api((_req, res, owner) => {
        primaryOf(owner);
        const items = [...calendars.values()]
          .filter((c) => c.owner === owner)
          .map((c) => ({
            kind: "calendar#calendarListEntry",
            etag: `"c${c.changeSeq}"`,
            id: c.id,
            summary: c.summary,
            timeZone: c.timeZone,
            accessRole: "owner",
            defaultReminders: [],
            ...(c.primary ? { primary: true } : {}),
          }));
        res.json({ kind: "calendar#calendarList", etag: `"l${calendars.size}"`, nextSyncToken: opaque(), items });
      }),
    );
    r.get(
      "/calendars/:calendarId/events",
      api((req, res, owner) => {
        res.json(listEvents(req, resolveCalendar(owner, param(req, "calendarId"))));
      }),
    );
    r.post(
      "/calendars/:calendarId/events/watch",
      api((req, res, owner) => {
        res.json(watch(req, resolveCalendar(owner, param(req, "calendarId"))));
      }),
    );
    r.post(
      "/calendars/:calendarId/events",
      api((req, res, owner) => {
        res.json(insertEvent(resolveCalendar(owner, param(req, "calendarId")), req.body));
      }),
    );
    r.get(
      "/calendars/:calendarId/events/:eventId",
      api((req, res, owner) => {
        const cal = resolveCalendar(owner, param(req, "calendarId"));
        const stored = findEvent(cal, param(req, "eventId"));
        countersOf(cal.id).gets++;
        res.json(publicEvent(stored, false));
      }),
    );
    for (const [method, mode] of [
      ["put", "put"],
      ["patch", "patch"],
    ] as const) {
      r[method](
        "/calendars/:calendarId/events/:eventId",
        api((req, res, owner) => {
          res.json(updateEvent(resolveCalendar(owner, param(req, "calendarId")), param(req, "eventId"), req, mode));
        }),
      );
    }
    r.delete(
      "/calendars/:calendarId/events/:eventId",
      api((req, res, owner) => {
        deleteEvent(resolveCalendar(owner, param(req, "calendarId")), param(req, "eventId"), req);
        res.status(204).end();
      }),
    );
    r.post(
      "/channels/stop",
      api((req, res, owner) => {
        stopChannel(req, owner);
        res.status(204).end();
      }),
    );
    r.use((_req: Request, res: Response) => sendError(res, notFound()));
    // Malformed JSON bodies answer like Google's front end.
    r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      const status = isRecord(err) && typeof err.status === "number" ? err.status : 500;
      if (status === 400) return sendError(res, new ApiError(400, "Parse Error", { reason: "parseError" }));
      if (status === 413) return sendError(res, new ApiError(413, "Request Too Large", { reason: "uploadTooLarge" }));
      next(err);
    });
    router.use("/calendar/v3", r);
  }

  // ---- control ----

  const control: GoogleCalendarControl = {
    calendars: () => [...calendars.values()].map(snapshot),
    addCalendar(input) {
      return snapshot(createCalendar({ ...input, primary: false }));
    },
    events(calendarId, o = {}) {
      const cal = controlCalendar(calendarId);
      if (!cal) return [];
      return [...cal.events.values()].filter((e) => o.includeDeleted || !e.deleted).map((e) => clone(e.resource));
    },
    event(calendarId, eventId) {
      const stored = controlCalendar(calendarId)?.events.get(eventId);
      return stored ? clone(stored.resource) : undefined;
    },
    counters(calendarId) {
      const id = controlCalendar(calendarId)?.id ?? calendarId;
      return { ...countersOf(id) };
    },
    allCounters: () => Object.fromEntries([...counters].map(([id, c]) => [id, { ...c }])),
    resetCounters() {
      counters = new Map();
    },
    expireSyncTokens() {
      const n = syncTokens.size;
      syncTokens = new Map();
      // Page tokens of incremental listings carry the old token's position too.
      for (const [token, cursor] of cursors) if (cursor.query.sinceSeq !== undefined) cursors.delete(token);
      return n;
    },
    channels: () => [...channels.values()].map(({ syncDelivery: _s, ...rest }) => rest),
    async notify(calendarId) {
      const cal = controlCalendar(calendarId);
      if (!cal) return [];
      const targets = [...channels.values()].filter((ch) => ch.calendarId === cal.id && live(ch));
      return Promise.all(
        targets.map(async (ch) => {
          await ch.syncDelivery;
          return deliver(ch, "exists");
        }),
      );
    },
    deliveries: () => deliveries.map((d) => ({ ...d })),
    reset() {
      calendars = new Map();
      counters = new Map();
      syncTokens = new Map();
      cursors = new Map();
      channels = new Map();
      deliveries = [];
    },
  };

  function controlRoutes(router: Router): void {
    const r = express.Router();
    r.use(express.json());
    r.get("/state", (_req, res) => {
      res.json({
        calendars: control.calendars().map((c) => ({ ...c, events: control.events(c.id, { includeDeleted: true }) })),
        counters: control.allCounters(),
        channels: control.channels(),
      });
    });
    r.post("/expire-sync-tokens", (_req, res) => {
      res.json({ expired: control.expireSyncTokens() });
    });
    r.post("/notify/:calendarId", async (req, res) => {
      res.json({ deliveries: await control.notify(String(req.params.calendarId)) });
    });
    r.post("/reset", (_req, res) => {
      control.reset();
      res.json({ ok: true });
    });
    router.use("/google-calendar", r);
  }

  return { name: "google-calendar", routes, controlRoutes, control };
}
