import type { Task } from "graphile-worker";
import { eq } from "drizzle-orm";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { connections } from "../db/schema";
import { calendarProviderFor } from "../app/calendar/registry.server";
import { scheduleChannelRenewal } from "../app/calendar/channels.server";

export const renewCalendarChannelTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { connectionId } = taskPayloadSchemas.renew_calendar_channel.parse(payload);
    const [conn] = await ctx.db.select().from(connections).where(eq(connections.id, connectionId));
    const provider = conn ? calendarProviderFor(conn.connectorId) : undefined;
    // A disconnected connection's channel simply lapses.
    if (!conn || conn.status !== "active" || !provider?.watch) return;
    await provider.watch(ctx, connectionId);
    await scheduleChannelRenewal(ctx.db, connectionId);
  };
