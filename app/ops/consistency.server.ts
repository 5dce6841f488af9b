// The consistency checker: verifies the hub's invariants and names every item
// that breaks one, for the data-inconsistency KPI and /console/consistency.
//
//  - core_fields_version / core_fields_last_seq: a couple's current row agrees
//    with its last stored version and its last event;
//  - event_seq_gap: 1..last_seq all have their event (count first, then window
//    functions only for the couples whose count is off: bounded work);
//  - calendar_event_missing: a random sample of calendar mappings (plus every
//    open finding again) asked at the provider through the calendar contract;
//  - stuck_*: waiting work past its time with no graphile-worker job that
//    would ever run it.
//
// Each run is a consistency_runs row (clean runs too: that is how the KPI
// knows the checker ran). Findings are upserted on the partial unique index
// (one open finding per item): still there → last_seen_at, new → inserted,
// no longer found → resolved_at. An invariant that could not be fully
// evaluated (an error, a capped list, a sample) only resolves what it did see.
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, DbOrTx, Tx } from "../db.server";
import type { HubContext } from "../runtime/context.server";
import { recordAudit, type Actor } from "../audit/audit.server";
import { calendarConnectorIds, calendarProviderFor } from "../calendar/registry.server";
import type { CalendarEventRef, EventPresence } from "../calendar/provider";
import { IMPORT_KIND } from "../import/engine.server";
import { INVARIANT_IDS, type Invariant } from "./consistency-defs";

export { INVARIANTS, INVARIANT_IDS, invariantLabel, findingHref, type Invariant } from "./consistency-defs";

export const CONSISTENCY_TASK = "check_consistency";
/** One graphile-worker queue: the cron's runs and "run now" never overlap. */
export const CONSISTENCY_QUEUE = "consistency";
/** Shared by the cron line and "run now": a pending run absorbs further requests. */
export const CONSISTENCY_JOB_KEY = "consistency:check";
/** The task's payload: nothing, or graphile-worker's cron metadata. */
export const checkConsistencyPayloadSchema = z.looseObject({});

/** More items than this per invariant are counted but not listed (and that invariant resolves nothing). */
export const MAX_LISTED_PER_INVARIANT = 1000;
/** A check query may not run longer: the job must end. */
const STATEMENT_TIMEOUT_MS = 120_000;
/** Per calendar connection: a provider that hangs leaves its sample unchecked. */
const CALENDAR_CONNECTION_TIMEOUT_MS = 60_000;
const CALENDAR_PARALLELISM = 4;
/** Runs older than this are deleted at the end of a run (findings are kept). */
const RUN_RETENTION_DAYS = 30;

export interface Finding {
  invariant: Invariant;
  entityType: string;
  entityId: string;
  detail: Record<string, unknown>;
}

/** What one invariant's check saw. */
export interface InvariantOutcome {
  invariant: Invariant;
  /** Items evaluated (a calendar event the provider answered for, a couple, a waiting delivery...). */
  checked: number;
  /** Items found inconsistent (may exceed findings.length when the list was capped). */
  found: number;
  /** Calendar events the provider could not be asked about (auth, network): neither fine nor a finding. */
  unchecked?: number;
  findings: Finding[];
  /**
   * Which open findings of this invariant a clean answer resolves: all not
   * found again, only these items (a sample), or none (the check was partial).
   */
  clears: "all" | "none" | { entityIds: string[] };
  error?: string;
}

export interface ConsistencyOptions {
  /** Calendar mappings sampled per run (default: config, 50). */
  calendarSample?: number;
  /** How far past its time waiting work may be before it counts as stuck (default: config, 10 min). */
  graceMs?: number;
  /** Only these invariants (default all). */
  only?: readonly Invariant[];
}

export interface ConsistencyRunSummary {
  runId: number;
  found: number;
  opened: number;
  resolved: number;
  outcomes: InvariantOutcome[];
}

export const runCountsSchema = z.record(
  z.string(),
  z.object({ checked: z.number(), found: z.number(), unchecked: z.number().optional(), error: z.string().optional() }),
);
export type RunCounts = z.infer<typeof runCountsSchema>;

const n = (v: unknown): number => Number(v ?? 0);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 500);

// ------------------------------------------------------------------ run

export async function runConsistencyCheck(ctx: HubContext, opts: ConsistencyOptions = {}): Promise<ConsistencyRunSummary> {
  const db = ctx.db;
  // A run whose worker died never finishes: say so, rather than show it "running" forever.
  await db.execute(sql`update consistency_runs set finished_at = now(), error = 'did not finish (its worker stopped)'
    where finished_at is null and started_at < now() - interval '1 hour'`);
  const [run] = await db
    .execute<{ id: string }>(sql`insert into consistency_runs default values returning id`)
    .then((r) => r.rows);
  const runId = Number(run!.id);
  const wanted = new Set<Invariant>(opts.only ?? INVARIANT_IDS);
  const graceMs = opts.graceMs ?? ctx.config.consistency.graceMs;
  const sample = opts.calendarSample ?? ctx.config.consistency.calendarSample;
  try {
    const outcomes: InvariantOutcome[] = [];
    const guarded = async (invariants: Invariant[], check: () => Promise<InvariantOutcome[]>) => {
      const todo = invariants.filter((i) => wanted.has(i));
      if (todo.length === 0) return;
      try {
        const got = await check();
        outcomes.push(...got.filter((o) => wanted.has(o.invariant)));
      } catch (err) {
        // One invariant's failure leaves its open findings as they were and the others still run.
        ctx.log.warn({ invariants: todo, err: errorText(err) }, "consistency check failed");
        for (const invariant of todo)
          outcomes.push({ invariant, checked: 0, found: 0, findings: [], clears: "none", error: errorText(err) });
      }
    };
    await guarded(["core_fields_version", "core_fields_last_seq", "event_seq_gap"], () => checkEventLog(db));
    await guarded(["calendar_event_missing"], async () => [await checkCalendarMappings(ctx, sample)]);
    await guarded(["stuck_webhook_delivery", "stuck_message", "stuck_import_run"], () => checkStuckWork(db, graceMs));

    const { opened, resolved } = await db.transaction((tx) => recordFindings(tx, outcomes));
    const counts: RunCounts = {};
    for (const o of outcomes)
      counts[o.invariant] = {
        checked: o.checked,
        found: o.found,
        ...(o.unchecked !== undefined ? { unchecked: o.unchecked } : {}),
        ...(o.error ? { error: o.error } : {}),
      };
    const found = outcomes.reduce((s, o) => s + o.found, 0);
    await db.execute(sql`update consistency_runs set finished_at = now(), checked = ${JSON.stringify(counts)}::jsonb,
      found = ${found} where id = ${runId}`);
    await db.execute(sql`delete from consistency_runs
      where started_at < now() - make_interval(days => ${RUN_RETENTION_DAYS}) and id <> ${runId}`);
    ctx.log.info({ runId, found, opened, resolved }, "consistency check finished");
    return { runId, found, opened, resolved, outcomes };
  } catch (err) {
    await db.execute(sql`update consistency_runs set finished_at = now(), error = ${errorText(err)} where id = ${runId}`);
    throw err;
  }
}

/** Upsert this run's findings and resolve what is no longer found; one transaction, one writer at a time. */
async function recordFindings(tx: Tx, outcomes: InvariantOutcome[]): Promise<{ opened: number; resolved: number }> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('consistency_findings'))`);
  let opened = 0;
  let resolved = 0;
  for (const o of outcomes) {
    const items = [...new Map(o.findings.map((f) => [`${f.entityType}\u0000${f.entityId}`, f])).values()].map((f) => ({
      entity_type: f.entityType,
      entity_id: f.entityId,
      detail: f.detail,
    }));
    if (items.length > 0) {
      const res = await tx.execute<{ inserted: boolean }>(sql`
        insert into consistency_findings (invariant, entity_type, entity_id, detail)
        select ${o.invariant}, x.entity_type, x.entity_id, x.detail
          from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as x(entity_type text, entity_id text, detail jsonb)
        on conflict (invariant, entity_type, entity_id) where resolved_at is null
        do update set detail = excluded.detail, last_seen_at = now()
        returning (xmax = 0) as inserted`);
      opened += res.rows.filter((r) => r.inserted).length;
    }
    if (o.clears === "none") continue;
    const seen = JSON.stringify(items.map(({ entity_type, entity_id }) => ({ entity_type, entity_id })));
    const scope = o.clears === "all" ? null : JSON.stringify(o.clears.entityIds);
    const res = await tx.execute(sql`
      update consistency_findings f set resolved_at = now()
       where f.invariant = ${o.invariant} and f.resolved_at is null
         and not exists (select 1 from jsonb_to_recordset(${seen}::jsonb) as s(entity_type text, entity_id text)
                          where s.entity_type = f.entity_type and s.entity_id = f.entity_id)
         and (${scope}::jsonb is null or f.entity_id in (select jsonb_array_elements_text(${scope}::jsonb)))`);
    resolved += res.rowCount ?? 0;
  }
  return { opened, resolved };
}

/** Run statements in one read-only snapshot with a time limit. */
async function snapshot<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(
    async (tx) => {
      await tx.execute(sql.raw(`set local statement_timeout = ${STATEMENT_TIMEOUT_MS}`));
      return fn(tx);
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

// ------------------------------------------------------------------ (a) and (b): the event log

async function checkEventLog(db: Db): Promise<InvariantOutcome[]> {
  return snapshot(db, async (tx) => {
    const couples = n((await tx.execute<{ n: string }>(sql`select count(*) as n from core_fields`)).rows[0]?.n);
    const [version, lastSeq] = await checkVersions(tx, couples);
    const gaps = await checkGaps(tx, couples);
    return [version, lastSeq, gaps];
  });
}

async function checkVersions(tx: DbOrTx, couples: number): Promise<[InvariantOutcome, InvariantOutcome]> {
  const res = await tx.execute<{
    couple_id: string;
    version: number;
    last_seq: string;
    row_version: number;
    event_version: number;
    max_seq: string;
    bad_version: boolean;
    bad_seq: boolean;
    versions_off: string;
    seqs_off: string;
  }>(sql`
    with v as (select couple_id, max(version) as v from core_field_versions group by couple_id),
    e as (select couple_id, max(seq) as max_seq,
                 max(version) filter (where starts_with(type, 'core_fields.')) as ev
            from events group by couple_id),
    j as (
      select cf.couple_id, cf.version, cf.last_seq,
             coalesce(v.v, 0) as row_version, coalesce(e.ev, 0) as event_version, coalesce(e.max_seq, 0) as max_seq
        from core_fields cf left join v on v.couple_id = cf.couple_id left join e on e.couple_id = cf.couple_id),
    bad as (
      select j.*, (version <> row_version or version <> event_version) as bad_version, (last_seq <> max_seq) as bad_seq
        from j where version <> row_version or version <> event_version or last_seq <> max_seq)
    select couple_id::text, version, last_seq, row_version, event_version, max_seq, bad_version, bad_seq,
           count(*) filter (where bad_version) over () as versions_off,
           count(*) filter (where bad_seq) over () as seqs_off
      from bad order by couple_id limit ${MAX_LISTED_PER_INVARIANT * 2}`);
  const versionFindings: Finding[] = [];
  const seqFindings: Finding[] = [];
  for (const r of res.rows) {
    if (r.bad_version && versionFindings.length < MAX_LISTED_PER_INVARIANT) {
      // "expected" is what the history says: the stored versions first, then the events.
      const expected = r.version !== r.row_version ? r.row_version : r.event_version;
      versionFindings.push({
        invariant: "core_fields_version",
        entityType: "couple",
        entityId: r.couple_id,
        detail: { expected, found: r.version, lastStoredVersion: r.row_version, lastEventVersion: r.event_version },
      });
    }
    if (r.bad_seq && seqFindings.length < MAX_LISTED_PER_INVARIANT)
      seqFindings.push({
        invariant: "core_fields_last_seq",
        entityType: "couple",
        entityId: r.couple_id,
        detail: { expected: n(r.max_seq), found: n(r.last_seq) },
      });
  }
  const versionsOff = n(res.rows[0]?.versions_off);
  const seqsOff = n(res.rows[0]?.seqs_off);
  return [
    {
      invariant: "core_fields_version",
      checked: couples,
      found: versionsOff,
      findings: versionFindings,
      clears: versionFindings.length === versionsOff ? "all" : "none",
    },
    {
      invariant: "core_fields_last_seq",
      checked: couples,
      found: seqsOff,
      findings: seqFindings,
      clears: seqFindings.length === seqsOff ? "all" : "none",
    },
  ];
}

async function checkGaps(tx: DbOrTx, couples: number): Promise<InvariantOutcome> {
  // Counting is one pass over the (couple_id, seq) index; the window function
  // then runs only over the events of couples whose count is short.
  const res = await tx.execute<{ couple_id: string; last_seq: string; present: string; total: string; gaps: [number, number][] }>(
    sql`
    with counts as (
      select cf.couple_id, cf.last_seq, count(e.seq) as present
        from core_fields cf
        left join events e on e.couple_id = cf.couple_id and e.seq between 1 and cf.last_seq
       group by cf.couple_id, cf.last_seq),
    bad as (
      select couple_id, last_seq, present, count(*) over () as total
        from counts where present <> last_seq order by couple_id limit ${MAX_LISTED_PER_INVARIANT}),
    s as (
      select e.couple_id, e.seq from events e join bad b on b.couple_id = e.couple_id where e.seq between 1 and b.last_seq
      union all
      select couple_id, last_seq + 1 from bad),
    w as (select couple_id, seq, lag(seq, 1, 0::bigint) over (partition by couple_id order by seq) as prev from s),
    g as (
      select couple_id, prev + 1 as gap_from, seq - 1 as gap_to,
             row_number() over (partition by couple_id order by seq) as k
        from w where seq - prev > 1)
    select b.couple_id::text, b.last_seq, b.present, b.total,
           coalesce(json_agg(json_build_array(g.gap_from, g.gap_to) order by g.gap_from) filter (where g.k is not null), '[]') as gaps
      from bad b left join g on g.couple_id = b.couple_id and g.k <= 20
     group by b.couple_id, b.last_seq, b.present, b.total
     order by b.couple_id`,
  );
  const findings: Finding[] = res.rows.map((r) => ({
    invariant: "event_seq_gap",
    entityType: "couple",
    entityId: r.couple_id,
    detail: {
      lastSeq: n(r.last_seq),
      present: n(r.present),
      missing: n(r.last_seq) - n(r.present),
      // [from, to] ranges of missing sequence numbers (the first 20).
      gaps: r.gaps.map(([from, to]) => [n(from), n(to)]),
    },
  }));
  const total = n(res.rows[0]?.total);
  return {
    invariant: "event_seq_gap",
    checked: couples,
    found: total,
    findings,
    clears: findings.length === total ? "all" : "none",
  };
}

// ------------------------------------------------------------------ (c): calendar mappings

type MappingRow = {
  connection_id: string;
  event_key: string;
  provider_event_id: string;
  calendar_id: string;
  connector_id: string;
};

export const calendarEntityId = (connectionId: string, eventKey: string) => `${connectionId}/${eventKey}`;

async function checkCalendarMappings(ctx: HubContext, sample: number): Promise<InvariantOutcome> {
  const db = ctx.db;
  const ids = JSON.stringify(calendarConnectorIds());
  const sampled = await db.execute<MappingRow>(sql`
    select ce.connection_id::text, ce.event_key, ce.provider_event_id, ce.calendar_id, c.connector_id
      from calendar_events ce join connections c on c.id = ce.connection_id
     where ce.status = 'active' and c.status = 'active'
       and c.connector_id in (select jsonb_array_elements_text(${ids}::jsonb))
     order by random() limit ${sample}`);
  // Open findings are asked about again every run (a sample would rarely meet them), so they can resolve.
  const open = await db.execute<MappingRow & { entity_id: string; row_status: string | null; conn_status: string | null }>(sql`
    select f.entity_id, ce.connection_id::text, ce.event_key, ce.provider_event_id, ce.calendar_id, c.connector_id,
           ce.status as row_status, c.status::text as conn_status
      from consistency_findings f
      left join calendar_events ce
        on ce.connection_id = nullif(split_part(f.entity_id, '/', 1), '')::uuid
       and ce.event_key = substr(f.entity_id, strpos(f.entity_id, '/') + 1)
      left join connections c on c.id = ce.connection_id
     where f.invariant = 'calendar_event_missing' and f.resolved_at is null`);

  const clears: string[] = [];
  const toAsk = new Map<string, MappingRow>();
  for (const r of sampled.rows) toAsk.set(calendarEntityId(r.connection_id, r.event_key), r);
  for (const r of open.rows) {
    // The hub no longer claims the event (removed, or the vendor disconnected): nothing left to be missing.
    if (r.row_status !== "active" || r.conn_status === "disconnected") clears.push(r.entity_id);
    else if (r.conn_status === "active") toAsk.set(r.entity_id, r);
    // needs_reconnect: cannot be asked; the finding stays as it was.
  }

  const byConnection = new Map<string, { connectorId: string; rows: MappingRow[] }>();
  for (const r of toAsk.values()) {
    const group = byConnection.get(r.connection_id) ?? { connectorId: r.connector_id, rows: [] };
    group.rows.push(r);
    byConnection.set(r.connection_id, group);
  }

  const findings: Finding[] = [];
  let checked = 0;
  let unchecked = 0;
  const askConnection = async ([connectionId, group]: [string, { connectorId: string; rows: MappingRow[] }]) => {
    const provider = calendarProviderFor(group.connectorId);
    const refs: CalendarEventRef[] = group.rows.map((r) => ({ providerEventId: r.provider_event_id, calendarId: r.calendar_id }));
    let answers: EventPresence[];
    if (!provider?.exists) {
      answers = refs.map(() => ({ state: "unchecked", reason: "the provider cannot look events up" }));
    } else {
      answers = await withTimeout(provider.exists(ctx, connectionId, refs), CALENDAR_CONNECTION_TIMEOUT_MS).catch(
        (err: unknown) => refs.map((): EventPresence => ({ state: "unchecked", reason: errorText(err) })),
      );
    }
    group.rows.forEach((r, i) => {
      const answer = answers[i] ?? { state: "unchecked", reason: "no answer" };
      const entityId = calendarEntityId(r.connection_id, r.event_key);
      if (answer.state === "unchecked") {
        unchecked++;
        return;
      }
      checked++;
      if (answer.state === "present") {
        clears.push(entityId);
        return;
      }
      findings.push({
        invariant: "calendar_event_missing",
        entityType: "calendar_event",
        entityId,
        detail: {
          connectionId: r.connection_id,
          connector: r.connector_id,
          eventKey: r.event_key,
          providerEventId: r.provider_event_id,
          calendarId: r.calendar_id,
          provider: answer.status,
        },
      });
    });
    const skipped = answers.filter((a) => a.state === "unchecked");
    if (skipped.length)
      ctx.log.warn(
        { connectionId, unchecked: skipped.length, reason: skipped[0]?.state === "unchecked" ? skipped[0].reason : undefined },
        "consistency: calendar events could not be checked",
      );
  };
  await inParallel([...byConnection.entries()], CALENDAR_PARALLELISM, askConnection);
  return {
    invariant: "calendar_event_missing",
    checked,
    found: findings.length,
    unchecked,
    findings,
    clears: { entityIds: clears },
  };
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the provider did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ (d): stuck work

/**
 * graphile-worker would still run a job with this key: it exists and is
 * running, or has attempts left. (A job that used them all stays in the table
 * but never runs again.) Keys as their producers make them: deliveryQueueName,
 * processJobKey, deliverJobKey, importJobKey.
 */
const liveJob = (key: ReturnType<typeof sql>) => sql`exists (
  select 1 from graphile_worker._private_jobs j
   where j.key = ${key} and (j.locked_at is not null or j.attempts < j.max_attempts))`;

interface StuckQuery {
  invariant: Invariant;
  entityType: string;
  /** Candidate rows: id, due (when the work should have run), job_key, detail (jsonb). */
  candidates: ReturnType<typeof sql>;
}

async function checkStuckWork(db: Db, graceMs: number): Promise<InvariantOutcome[]> {
  const queries: StuckQuery[] = [
    {
      invariant: "stuck_webhook_delivery",
      entityType: "webhook_delivery",
      candidates: sql`
        select d.id::text as id, coalesce(d.next_attempt_at, d.created_at) as due,
               'whout:' || d.endpoint_id::text || ':' || coalesce(d.couple_id::text, 'none') as job_key,
               jsonb_build_object('direction', 'out', 'endpointId', d.endpoint_id, 'coupleId', d.couple_id, 'seq', d.seq,
                                  'status', d.status, 'attempts', d.attempts) as detail
          from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
         -- A disabled endpoint's deliveries wait on purpose (they go when it is enabled again).
         where e.direction = 'out' and e.status = 'active' and d.status = 'pending'
        union all
        select d.id::text, coalesce(d.next_attempt_at, d.created_at),
               'webhook-in:' || d.id::text,
               jsonb_build_object('direction', 'in', 'endpointId', d.endpoint_id, 'status', d.status, 'attempts', d.attempts)
          from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
         where e.direction = 'in' and d.status in ('received', 'processing', 'failed')`,
    },
    {
      invariant: "stuck_message",
      entityType: "message",
      candidates: sql`
        select m.id::text as id, coalesce(m.not_before, m.created_at) as due, 'message:' || m.id::text as job_key,
               jsonb_build_object('channel', m.channel, 'status', m.status, 'template', m.template,
                                  'attempts', m.attempt_count) as detail
          from messages m where m.status in ('queued', 'sending')`,
    },
    {
      invariant: "stuck_import_run",
      entityType: "sync_run",
      candidates: sql`
        select r.id::text as id, coalesce(r.started_at, r.created_at) as due, 'import:' || r.id::text as job_key,
               jsonb_build_object('connectionId', r.connection_id, 'status', r.status, 'done', r.done) as detail
          from sync_runs r where r.kind = ${IMPORT_KIND} and r.status in ('queued', 'running')`,
    },
  ];
  const grace = sql`now() - make_interval(secs => ${graceMs / 1000})`;
  return snapshot(db, async (tx) => {
    const out: InvariantOutcome[] = [];
    for (const q of queries) {
      const res = await tx.execute<{
        checked: string;
        total: string;
        items: { id: string; due: string; detail: object }[] | null;
      }>(sql`
        with c as (${q.candidates}),
        stuck as (select c.* from c where c.due < ${grace} and not ${liveJob(sql`c.job_key`)})
        select (select count(*) from c) as checked, (select count(*) from stuck) as total,
               (select json_agg(x) from (select id, due, detail from stuck order by due limit ${MAX_LISTED_PER_INVARIANT}) x) as items`);
      const row = res.rows[0];
      const items = row?.items ?? [];
      const total = n(row?.total);
      out.push({
        invariant: q.invariant,
        checked: n(row?.checked),
        found: total,
        findings: items.map((i) => ({
          invariant: q.invariant,
          entityType: q.entityType,
          entityId: i.id,
          detail: { ...i.detail, due: new Date(i.due).toISOString(), job: "none that will run" },
        })),
        clears: items.length === total ? "all" : "none",
      });
    }
    return out;
  });
}

// ------------------------------------------------------------------ requests and reads

/**
 * "Run now": queue the check with the shared job key, so a double click (or
 * the cron slot) while one is waiting queues nothing more. Audited.
 */
export async function requestConsistencyRun(db: Db, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select graphile_worker.add_job(
      identifier => ${CONSISTENCY_TASK}::text,
      payload => '{}'::json,
      queue_name => ${CONSISTENCY_QUEUE}::text,
      max_attempts => 1,
      job_key => ${CONSISTENCY_JOB_KEY}::text,
      job_key_mode => 'preserve_run_at'
    )`);
    await recordAudit(tx, actor, {
      action: "consistency.run_requested",
      entityType: "consistency_check",
      entityId: null,
      after: { jobKey: CONSISTENCY_JOB_KEY },
    });
  });
}

export interface FindingView {
  id: number;
  invariant: string;
  entityType: string;
  entityId: string;
  detail: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
}

export interface RunView {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  found: number;
  checked: RunCounts;
  error: string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** Open findings (all of them, oldest first), then the most recently resolved ones. */
export async function listFindings(db: DbOrTx, opts: { resolvedLimit?: number } = {}): Promise<FindingView[]> {
  const res = await db.execute<{
    id: string;
    invariant: string;
    entity_type: string;
    entity_id: string;
    detail: Record<string, unknown>;
    first_seen_at: Date;
    last_seen_at: Date;
    resolved_at: Date | null;
  }>(sql`
    (select * from consistency_findings where resolved_at is null order by first_seen_at, id)
    union all
    (select * from consistency_findings where resolved_at is not null order by resolved_at desc, id desc
      limit ${opts.resolvedLimit ?? 50})`);
  return res.rows.map((r) => ({
    id: Number(r.id),
    invariant: r.invariant,
    entityType: r.entity_type,
    entityId: r.entity_id,
    detail: r.detail,
    firstSeenAt: iso(r.first_seen_at)!,
    lastSeenAt: iso(r.last_seen_at)!,
    resolvedAt: iso(r.resolved_at),
  }));
}

export async function recentRuns(db: DbOrTx, limit = 10): Promise<RunView[]> {
  const res = await db.execute<{
    id: string;
    started_at: Date;
    finished_at: Date | null;
    found: number;
    checked: unknown;
    error: string | null;
  }>(sql`select id, started_at, finished_at, found, checked, error from consistency_runs order by id desc limit ${limit}`);
  return res.rows.map((r) => {
    const counts = runCountsSchema.safeParse(r.checked);
    return {
      id: Number(r.id),
      startedAt: iso(r.started_at)!,
      finishedAt: iso(r.finished_at),
      found: r.found,
      checked: counts.success ? counts.data : {},
      error: r.error,
    };
  });
}

/** Is a check waiting or running (so the console can say so)? */
export async function consistencyRunPending(db: DbOrTx): Promise<boolean> {
  const res = await db.execute<{ pending: boolean }>(sql`select ${liveJob(sql`${CONSISTENCY_JOB_KEY}`)} as pending`);
  return Boolean(res.rows[0]?.pending);
}
