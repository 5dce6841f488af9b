// The health of each wedding in wedding-day mode, for the dashboard and the
// wedding-day page: what is still waiting or has failed for that couple, which
// of its vendors' connections need attention, and the last pre-warm.
import { sql } from "drizzle-orm";
import type { HubContext } from "../runtime/context.server";
import { weddingDayCouples, type WeddingDayCouple } from "./mode.server";
import { prewarmStatus } from "./prewarm.server";

export interface WeddingDayHealth extends WeddingDayCouple {
  messagesWaiting: number;
  messagesFailed: number;
  webhooksFailing: number;
  connectionsNeedingReconnect: number;
  prewarm: { connections: number; verified: number; errors: string[]; lastAt: Date | null };
  /** green: nothing waiting or failing; amber: work waiting or pre-warm incomplete; red: failures or reconnects. */
  health: "green" | "amber" | "red";
}

interface CountRow {
  couple_id: string;
  messages_waiting: string;
  messages_failed: string;
  webhooks_failing: string;
  reconnect: string;
  [key: string]: unknown;
}

export async function weddingDayHealth(ctx: HubContext, now = new Date()): Promise<WeddingDayHealth[]> {
  const live = await weddingDayCouples(ctx.db, now);
  if (live.length === 0) return [];
  const ids = live.map((c) => c.coupleId);
  const idList = sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const counts = await ctx.db.execute<CountRow>(sql`
    select c.id as couple_id,
      (select count(*) from messages m where m.couple_id = c.id and m.status in ('queued', 'sending')) as messages_waiting,
      (select count(*) from messages m where m.couple_id = c.id and m.status in ('failed', 'bounced')
         and m.updated_at > now() - interval '48 hours') as messages_failed,
      (select count(*) from webhook_deliveries d where d.couple_id = c.id
         and d.status in ('failed', 'dead', 'held')) as webhooks_failing,
      (select count(distinct cn.id) from connections cn join supplier_couples sc on sc.supplier_id = cn.supplier_id
         where sc.couple_id = c.id and cn.status = 'needs_reconnect') as reconnect
    from couples c where c.id in (${idList})`);
  const byCouple = new Map(counts.rows.map((r) => [r.couple_id, r]));
  const prewarm = await prewarmStatus(ctx, ids);
  return live.map((c) => {
    const r = byCouple.get(c.coupleId);
    const mine = prewarm.filter((p) => p.coupleId === c.coupleId);
    const h = {
      messagesWaiting: Number(r?.messages_waiting ?? 0),
      messagesFailed: Number(r?.messages_failed ?? 0),
      webhooksFailing: Number(r?.webhooks_failing ?? 0),
      connectionsNeedingReconnect: Number(r?.reconnect ?? 0),
      prewarm: {
        connections: mine.length,
        verified: mine.filter((p) => p.calendarVerified === true).length,
        errors: mine.flatMap((p) => (p.error ? [`${p.connectorId}: ${p.error}`] : [])),
        lastAt: mine.reduce<Date | null>((acc, p) => (!acc || p.at > acc ? p.at : acc), null),
      },
    };
    const red = h.messagesFailed > 0 || h.webhooksFailing > 0 || h.connectionsNeedingReconnect > 0;
    const amber = h.messagesWaiting > 0 || h.prewarm.errors.length > 0 || h.prewarm.lastAt === null;
    return { ...c, ...h, health: red ? "red" : amber ? "amber" : "green" };
  });
}
