// Google Calendar push notifications end to end: the sync opens a watch
// channel at the simulator, whose notifications reach the hub's real route; a
// verified "exists" queues a pull, a wrong token or unknown channel is refused
// and queues nothing; renewal opens the new channel before stopping the old.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type { JobHelpers } from "graphile-worker";
import { calendarChannels, connections } from "../../db/schema";
import { runCalendarSync } from "../../app/calendar/sync.server";
import { NOTIFICATIONS_PATH } from "../../app/calendar/google-watch.server";
import { renewCalendarChannelTask } from "../../workers/renew-calendar-channel";
import { makeCouple, makeSupplier, startTestHub } from "../helpers/hub";
import { startSimulator, type RunningSimulator } from "../../simulators/harness";
import { createGoogleCalendarSimulator, type GoogleCalendarSimulatorDefinition } from "../../simulators/google-calendar/index";

const TOKEN = "watch-token";
let hub: Awaited<ReturnType<typeof startTestHub>>;
let def: GoogleCalendarSimulatorDefinition;
let sim: RunningSimulator;

beforeAll(async () => {
  def = createGoogleCalendarSimulator({ authorize: (token) => token === TOKEN });
  sim = await startSimulator(def);
  hub = await startTestHub({ config: { providerApiRoots: { "google-calendar": `${sim.url}/` } } });
});
afterAll(async () => {
  await hub?.stop();
  await sim?.close();
});

let connectionId: string;
beforeEach(async () => {
  const supplier = await makeSupplier(hub.ctx.db);
  const [conn] = await hub.ctx.db
    .insert(connections)
    .values({
      supplierId: supplier.id,
      connectorId: "google-calendar",
      credentialsEnc: hub.ctx.vault.encryptJson({ accessToken: TOKEN }),
    })
    .returning();
  connectionId = conn!.id;
  await makeCouple(hub.ctx.db, [supplier.id], { weddingDate: "2027-11-20", partner1Name: "Watcher" });
});

const liveChannels = () =>
  hub.ctx.db
    .select()
    .from(calendarChannels)
    .where(and(eq(calendarChannels.connectionId, connectionId), eq(calendarChannels.status, "active")));

const syncJobs = async () =>
  (
    await hub.ctx.db.execute<{ key: string }>(
      sql`select key from graphile_worker._private_jobs where key = ${`calendar-sync:${connectionId}`}`,
    )
  ).rows;

const clearSyncJob = () => hub.ctx.db.execute(sql`select graphile_worker.remove_job(${`calendar-sync:${connectionId}`})`);

const post = (headers: Record<string, string>) => fetch(`${hub.url}${NOTIFICATIONS_PATH}`, { method: "POST", headers });

describe("Google watch channels", () => {
  it("a sync opens a channel; Google's notifications with the right token queue a pull", async () => {
    await runCalendarSync(hub.ctx, connectionId);
    const [channel] = await liveChannels();
    expect(channel).toBeDefined();
    expect(channel!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    const atGoogle = def.control.channels().find((c) => c.id === channel!.channelId);
    expect(atGoogle?.address).toBe(`${hub.url}${NOTIFICATIONS_PATH}`);
    // The token Google holds is the secret; we only keep its hash.
    expect(atGoogle?.token).toBeTruthy();
    expect(channel!.secretHash).not.toContain(atGoogle!.token!);
    // A renewal is scheduled an hour before the channel expires.
    const renew = await hub.ctx.db.execute<{ run_at: Date }>(
      sql`select run_at from graphile_worker._private_jobs where key = ${`calendar-channel:${connectionId}`}`,
    );
    expect(new Date(renew.rows[0]!.run_at).getTime()).toBe(channel!.expiresAt.getTime() - 3600_000);

    await clearSyncJob();
    const deliveries = await def.control.notify("primary");
    const ours = deliveries.filter((d) => d.channelId === channel!.channelId);
    expect(ours.map((d) => [d.state, d.status])).toEqual([["exists", 200]]);
    // The initial "sync" message was acknowledged too.
    expect(def.control.deliveries().find((d) => d.channelId === channel!.channelId && d.state === "sync")?.status).toBe(200);
    expect(await syncJobs()).toHaveLength(1);
    // A second sync does not open another channel while this one lives.
    await runCalendarSync(hub.ctx, connectionId);
    expect(await liveChannels()).toHaveLength(1);
  });

  it("refuses a wrong token, a wrong resource, an unknown channel and a non-notification, queuing nothing", async () => {
    await runCalendarSync(hub.ctx, connectionId);
    const [channel] = await liveChannels();
    await clearSyncJob();
    const base = {
      "X-Goog-Channel-ID": channel!.channelId,
      "X-Goog-Resource-ID": channel!.resourceId!,
      "X-Goog-Resource-State": "exists",
      "X-Goog-Message-Number": "2",
    };
    const atGoogle = def.control.channels().find((c) => c.id === channel!.channelId)!;
    expect((await post({ ...base, "X-Goog-Channel-Token": "guessed" })).status).toBe(403);
    expect((await post({ ...base, "X-Goog-Channel-Token": atGoogle.token!, "X-Goog-Resource-ID": "other" })).status).toBe(403);
    expect((await post({ ...base, "X-Goog-Channel-Token": atGoogle.token!, "X-Goog-Channel-ID": "nope" })).status).toBe(404);
    expect((await post({})).status).toBe(400);
    expect(await syncJobs()).toHaveLength(0);
    expect((await post({ ...base, "X-Goog-Channel-Token": atGoogle.token! })).status).toBe(200);
    expect(await syncJobs()).toHaveLength(1);
  });

  it("renewal opens the new channel before stopping the old one", async () => {
    await runCalendarSync(hub.ctx, connectionId);
    const [old] = await liveChannels();
    await renewCalendarChannelTask(hub.ctx)({ connectionId }, {} as unknown as JobHelpers);
    const live = await liveChannels();
    expect(live).toHaveLength(1);
    expect(live[0]!.channelId).not.toBe(old!.channelId);
    const [stopped] = await hub.ctx.db.select().from(calendarChannels).where(eq(calendarChannels.id, old!.id));
    expect(stopped!.status).toBe("stopped");
    // Google no longer notifies the old channel; a late notification for it is refused.
    const oldAtGoogle = def.control.channels().find((c) => c.id === old!.channelId);
    expect(oldAtGoogle).toBeDefined();
    const res = await post({
      "X-Goog-Channel-ID": old!.channelId,
      "X-Goog-Channel-Token": oldAtGoogle!.token!,
      "X-Goog-Resource-ID": old!.resourceId!,
      "X-Goog-Resource-State": "exists",
    });
    expect(res.status).toBe(404);
  });
});
