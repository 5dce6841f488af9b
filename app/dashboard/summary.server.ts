// Figures for the console's front page, read live from the database.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";

export interface DashboardSummary {
  suppliers: number;
  couples: number;
  connections: number;
  connectionsNeedingReconnect: number;
  eventsLast24h: number;
  queue: { task: string; waiting: number; oldestSeconds: number | null }[];
  recentJobs: { task: string; jobKey: string; workerId: string; at: Date }[];
}

export async function dashboardSummary(db: DbOrTx): Promise<DashboardSummary> {
  const counts = await db.execute<{
    suppliers: number;
    couples: number;
    connections: number;
    reconnect: number;
    events24h: number;
  }>(sql`select
      (select count(*)::int from suppliers) as suppliers,
      (select count(*)::int from couples) as couples,
      (select count(*)::int from connections where status <> 'disconnected') as connections,
      (select count(*)::int from connections where status = 'needs_reconnect') as reconnect,
      (select count(*)::int from events where occurred_at > now() - interval '24 hours') as "events24h"`);
  const queue = await db.execute<{ task: string; waiting: number; oldest: number | null }>(sql`
    select task_identifier as task, count(*)::int as waiting,
           extract(epoch from now() - min(run_at))::float8 as oldest
    from graphile_worker.jobs
    where locked_at is null
    group by task_identifier order by task_identifier`);
  const recent = await db.execute<{ task: string; job_key: string; worker_id: string; at: Date }>(
    sql`select task, job_key, worker_id, at from job_executions order by id desc limit 10`,
  );
  const c = counts.rows[0]!;
  return {
    suppliers: c.suppliers,
    couples: c.couples,
    connections: c.connections,
    connectionsNeedingReconnect: c.reconnect,
    eventsLast24h: c.events24h,
    queue: queue.rows.map((r) => ({
      task: r.task,
      waiting: r.waiting,
      oldestSeconds: r.oldest === null ? null : Math.max(0, Math.round(r.oldest)),
    })),
    recentJobs: recent.rows.map((r) => ({ task: r.task, jobKey: r.job_key, workerId: r.worker_id, at: new Date(r.at) })),
  };
}
