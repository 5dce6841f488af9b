// The Microsoft Graph simulator through the real @microsoft/microsoft-graph-client
// SDK: event CRUD and paging, If-Match (412), transactionId de-duplication,
// calendarView delta (pages, increments with @removed, 410), subscriptions
// (validation handshake, renew, delete, change notifications), auth and faults.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, GraphError, RetryHandlerOptions } from "@microsoft/microsoft-graph-client";
import type { Event as GraphEvent } from "@microsoft/microsoft-graph-types";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createMicrosoftGraphSimulator, type MicrosoftGraphSimulatorDefinition } from "../../simulators/microsoft-graph/index";
import { createOAuthSimulator } from "../../simulators/oauth/index";

const TOKEN = "graph-sim-good";
let def: MicrosoftGraphSimulatorDefinition;
let sim: RunningSimulator;

beforeEach(async () => {
  def = createMicrosoftGraphSimulator({ authorize: (t) => t === TOKEN, pageSize: 3, validationTimeoutMs: 1_000 });
  sim = await startSimulator(def);
});
afterEach(async () => {
  await sim?.close();
});

/**
 * The SDK pointed at the simulator. It attaches tokens only to https Graph hosts and strips an
 * "Authorization" header sent elsewhere, so for plain http the header goes in fetchOptions, lower-cased.
 */
function graph(token = TOKEN): Client {
  return Client.init({
    authProvider: (done) => done(null, token),
    baseUrl: sim.url,
    defaultVersion: "v1.0",
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
  });
}
const api = (path: string, token = TOKEN) => {
  // Links Graph hands out are absolute; the SDK parses only https ones, so pass the part after /v1.0.
  const rel = path.startsWith(sim.url) ? path.slice(`${sim.url}/v1.0`.length) : path;
  return graph(token)
    .api(rel)
    .middlewareOptions([new RetryHandlerOptions(0, 0)]);
};

type Etagged = GraphEvent & { "@odata.etag": string };

const eventBody = (n: number, extra: Record<string, unknown> = {}) => ({
  subject: `Event ${n}`,
  body: { contentType: "text", content: `Body ${n}` },
  start: { dateTime: `2027-06-${String(1 + n).padStart(2, "0")}T10:00:00`, timeZone: "Europe/London" },
  end: { dateTime: `2027-06-${String(1 + n).padStart(2, "0")}T11:00:00`, timeZone: "Europe/London" },
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GraphError);
    return err as GraphError;
  }
  throw new Error("expected the call to fail");
}

interface DeltaPage {
  value: (GraphEvent & { "@removed"?: { reason: string } })[];
  "@odata.nextLink"?: string;
  "@odata.deltaLink"?: string;
}

async function deltaAll(first: string, maxPageSize?: number) {
  const pages: DeltaPage[] = [];
  let link: string | undefined = first;
  while (link) {
    let req = api(link);
    if (maxPageSize) req = req.header("Prefer", `odata.maxpagesize=${maxPageSize}`);
    const page = (await req.get()) as DeltaPage;
    pages.push(page);
    link = page["@odata.nextLink"];
  }
  return { pages, items: pages.flatMap((p) => p.value), deltaLink: pages.at(-1)!["@odata.deltaLink"]! };
}

const WINDOW = "/me/calendarView/delta?startDateTime=2027-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z";

describe("events", () => {
  it("creates, reads (UTC by default, or the Prefer zone), patches and deletes", async () => {
    const created = (await api("/me/events").post(eventBody(1))) as Etagged;
    expect(created).toMatchObject({
      subject: "Event 1",
      start: { dateTime: "2027-06-02T09:00:00.0000000", timeZone: "UTC" },
      end: { dateTime: "2027-06-02T10:00:00.0000000", timeZone: "UTC" },
      originalStartTimeZone: "Europe/London",
      isAllDay: false,
      showAs: "busy",
      type: "singleInstance",
    });
    expect(created["@odata.etag"]).toMatch(/^W\/".+"$/);

    const local = (await api(`/me/events/${created.id}`)
      .header("Prefer", 'outlook.timezone="Europe/London"')
      .get()) as GraphEvent;
    expect(local.start).toEqual({ dateTime: "2027-06-02T10:00:00.0000000", timeZone: "Europe/London" });

    const patched = (await api(`/me/events/${created.id}`)
      .header("If-Match", created["@odata.etag"])
      .patch({ subject: "Moved", location: { displayName: "Barn" } })) as Etagged;
    expect(patched).toMatchObject({ id: created.id, subject: "Moved", location: { displayName: "Barn" } });
    expect(patched["@odata.etag"]).not.toBe(created["@odata.etag"]);

    await api(`/me/events/${created.id}`).delete();
    const gone = await failure(api(`/me/events/${created.id}`).get());
    expect(gone.statusCode).toBe(404);
    expect(gone.code).toBe("ErrorItemNotFound");
    expect(def.control.counters()).toMatchObject({ creates: 1, updates: 1, deletes: 1 });
  });

  it("answers 412 to a PATCH or DELETE carrying a stale @odata.etag", async () => {
    const created = (await api("/me/events").post(eventBody(2))) as Etagged;
    await api(`/me/events/${created.id}`).patch({ subject: "Changed in Outlook" });
    const stale = await failure(
      api(`/me/events/${created.id}`).header("If-Match", created["@odata.etag"]).patch({ subject: "x" }),
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.code).toBe("ErrorIrresolvableConflict");
    const staleDelete = await failure(api(`/me/events/${created.id}`).header("If-Match", created["@odata.etag"]).delete());
    expect(staleDelete.statusCode).toBe(412);
    expect(def.control.event(created.id!)?.subject).toBe("Changed in Outlook");
  });

  it("lists with $top and @odata.nextLink", async () => {
    for (let i = 0; i < 7; i++) await api("/me/events").post(eventBody(i));
    const seen: string[] = [];
    let link: string | undefined = "/me/events?$top=3";
    let pages = 0;
    while (link) {
      const page = (await api(link).get()) as { value: GraphEvent[]; "@odata.nextLink"?: string };
      seen.push(...page.value.map((e) => e.subject!));
      link = page["@odata.nextLink"];
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `Event ${i}`));
  });

  it("answers a create retried with the same transactionId with the event it already made", async () => {
    const first = (await api("/me/events").post(eventBody(3, { transactionId: "tx-1" }))) as GraphEvent;
    const again = (await api("/me/events").post(eventBody(3, { transactionId: "tx-1" }))) as GraphEvent;
    expect(again.id).toBe(first.id);
    expect(again.transactionId).toBe("tx-1");
    expect(def.control.events()).toHaveLength(1);
    expect(def.control.counters()).toMatchObject({ creates: 1, deduplicated: 1 });
    // Once that event is deleted the transaction is spent: a new create makes a new event.
    await api(`/me/events/${first.id}`).delete();
    const fresh = (await api("/me/events").post(eventBody(3, { transactionId: "tx-1" }))) as GraphEvent;
    expect(fresh.id).not.toBe(first.id);
  });

  it("validates bodies like Graph and lists the default calendar", async () => {
    const bad = await failure(api("/me/events").post(eventBody(4, { start: { dateTime: "June", timeZone: "UTC" } })));
    expect(bad.statusCode).toBe(400);
    const zone = await failure(
      api("/me/events").post(eventBody(4, { start: { dateTime: "2027-06-01T10:00:00", timeZone: "Mars/Olympus" } })),
    );
    expect(zone.code).toBe("TimeZoneNotSupportedException");
    const allDay = await failure(api("/me/events").post(eventBody(4, { isAllDay: true })));
    expect(allDay.code).toBe("ErrorPropertyValidationFailure");
    const cals = (await api("/me/calendars").get()) as { value: { isDefaultCalendar: boolean; name: string }[] };
    expect(cals.value).toEqual([expect.objectContaining({ isDefaultCalendar: true, name: "Calendar" })]);
  });
});

describe("calendarView delta", () => {
  it("pages with $skiptoken, ends with a deltaLink, then returns only changes with @removed for deletions", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await api("/me/events").post(eventBody(i))) as GraphEvent).id!);
    // Outside the window: never listed.
    await api("/me/events").post({
      ...eventBody(9),
      start: { dateTime: "2030-01-01T10:00:00", timeZone: "UTC" },
      end: { dateTime: "2030-01-01T11:00:00", timeZone: "UTC" },
    });

    const full = await deltaAll(WINDOW, 2);
    expect(full.pages).toHaveLength(3);
    expect(full.pages[0]!["@odata.nextLink"]).toContain("$skiptoken=");
    expect(full.deltaLink).toContain("$deltatoken=");
    expect(full.items.map((e) => e.id)).toEqual(ids);

    const quiet = await deltaAll(full.deltaLink);
    expect(quiet.items).toEqual([]);

    await api(`/me/events/${ids[1]}`).patch({ subject: "Renamed" });
    await api(`/me/events/${ids[3]}`).delete();
    const added = (await api("/me/events").post(eventBody(6))) as GraphEvent;
    const inc = await deltaAll(quiet.deltaLink);
    expect(inc.items).toEqual([
      expect.objectContaining({ id: ids[1], subject: "Renamed" }),
      { "@odata.type": "#microsoft.graph.event", id: ids[3], "@removed": { reason: "deleted" } },
      expect.objectContaining({ id: added.id }),
    ]);
  });

  it("answers 410 to an unknown or expired delta token, and 400 without a window", async () => {
    await api("/me/events").post(eventBody(1));
    const { deltaLink } = await deltaAll(WINDOW);
    expect(def.control.expireDeltaTokens()).toBeGreaterThan(0);
    const expired = await failure(api(deltaLink).get());
    expect(expired.statusCode).toBe(410);
    expect(expired.code).toBe("syncStateNotFound");
    const noWindow = await failure(api("/me/calendarView/delta").get());
    expect(noWindow.statusCode).toBe(400);
  });
});

// ---- subscriptions ----------------------------------------------------------

interface Receiver {
  url: string;
  received: { query: URLSearchParams; body: string }[];
  close(): Promise<void>;
}

/** A tiny notification endpoint: echoes the validation token (or not) and records every POST. */
async function receiver(behaviour: "echo" | "ignore" | "slow"): Promise<Receiver> {
  const received: Receiver["received"] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const query = new URL(req.url ?? "/", "http://x").searchParams;
      received.push({ query, body });
      const token = query.get("validationToken");
      if (token && behaviour === "echo") {
        res.writeHead(200, { "Content-Type": "text/plain" }).end(token);
      } else if (token && behaviour === "slow") {
        setTimeout(() => res.writeHead(200, { "Content-Type": "text/plain" }).end(token), 2_000);
      } else {
        res.writeHead(202).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const inOneDay = () => new Date(Date.now() + 24 * 3600 * 1000).toISOString();

describe("subscriptions", () => {
  it("validates the endpoint, then notifies on changes with the clientState; renews and deletes", async () => {
    const hook = await receiver("echo");
    try {
      const sub = (await api("/subscriptions").post({
        changeType: "created,updated,deleted",
        notificationUrl: hook.url,
        resource: "me/events",
        expirationDateTime: inOneDay(),
        clientState: "secret-state",
      })) as { id: string; expirationDateTime: string; clientState: string };
      expect(sub).toMatchObject({ clientState: "secret-state", resource: "me/events" });
      expect(hook.received[0]!.query.get("validationToken")).toMatch(/^Validation: /);

      const ev = (await api("/me/events").post(eventBody(1))) as GraphEvent;
      await def.control.flushNotifications();
      const note = JSON.parse(hook.received.at(-1)!.body) as { value: Record<string, unknown>[] };
      expect(note.value).toEqual([
        expect.objectContaining({
          subscriptionId: sub.id,
          clientState: "secret-state",
          changeType: "created",
          resource: `Users/me/Events/${ev.id}`,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: expect.any(String),
        }),
      ]);

      const later = new Date(Date.now() + 48 * 3600 * 1000).toISOString();
      const renewed = (await api(`/subscriptions/${sub.id}`).patch({ expirationDateTime: later })) as {
        expirationDateTime: string;
      };
      expect(Date.parse(renewed.expirationDateTime)).toBe(Date.parse(later));
      const tooLong = await failure(
        api(`/subscriptions/${sub.id}`).patch({ expirationDateTime: new Date(Date.now() + 5 * 24 * 3600 * 1000).toISOString() }),
      );
      expect(tooLong.statusCode).toBe(400);

      await api(`/subscriptions/${sub.id}`).delete();
      expect(def.control.subscriptions()).toEqual([]);
      const count = hook.received.length;
      await api(`/me/events/${ev.id}`).delete();
      await def.control.flushNotifications();
      expect(hook.received).toHaveLength(count);
      expect((await failure(api(`/subscriptions/${sub.id}`).get())).statusCode).toBe(404);
    } finally {
      await hook.close();
    }
  });

  it("refuses the subscription (400 ValidationError) when the endpoint does not echo the token in time", async () => {
    for (const behaviour of ["ignore", "slow"] as const) {
      const hook = await receiver(behaviour);
      try {
        const err = await failure(
          api("/subscriptions").post({
            changeType: "updated",
            notificationUrl: hook.url,
            resource: "me/events",
            expirationDateTime: inOneDay(),
            clientState: "s",
          }),
        );
        expect(err.statusCode).toBe(400);
        expect(err.code).toBe("ValidationError");
        expect(def.control.subscriptions()).toEqual([]);
      } finally {
        await hook.close();
      }
    }
  });
});

describe("auth and faults", () => {
  it("answers 401 InvalidAuthenticationToken for a bad bearer token", async () => {
    const err = await failure(api("/me/events", "nope").get());
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe("InvalidAuthenticationToken");
  });

  it("accepts the Microsoft OAuth simulator's tokens, one mailbox per user", async () => {
    const oauth = createOAuthSimulator("microsoft", {
      clients: [{ clientId: "c", clientSecret: "s", redirectUris: ["http://localhost/cb"] }],
      users: [{ id: "u-1", email: "a@example.com", name: "A" }],
    });
    const scoped = createMicrosoftGraphSimulator({ authorize: (t) => oauth.oauth.checkAccessToken(t) });
    const running = await startSimulator(scoped);
    try {
      const client = Client.init({
        authProvider: (done) => done(null, "x"),
        baseUrl: running.url,
        fetchOptions: { headers: { authorization: "Bearer not-issued" } },
      });
      const err = await failure(
        client
          .api("/me/events")
          .middlewareOptions([new RetryHandlerOptions(0, 0)])
          .get(),
      );
      expect(err.statusCode).toBe(401);
    } finally {
      await running.close();
    }
  });

  it("answers injected 429s with Retry-After", async () => {
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7 });
    const err = await failure(api("/me/events").get());
    expect(err.statusCode).toBe(429);
    expect(err.headers?.get("retry-after")).toBe("7");
  });
});
