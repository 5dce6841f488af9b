// Every task's payload schema, shared by producers (enqueue) and workers (parse).
import { z } from "zod";

export const taskPayloadSchemas = {
  diagnostics_ping: z.object({ key: z.string().min(1).max(200) }),
  /** Apply a core-field change on behalf of an import or a webhook (flow 2 and 3 end in flow 1). */
  apply_core_fields: z.object({
    coupleId: z.uuid(),
    patch: z.record(z.string(), z.unknown()),
    /** A version to check, or "current" to apply to whatever is there. */
    expectedVersion: z.union([z.number().int().min(0), z.literal("current")]),
    source: z.enum(["import", "webhook", "wedme", "wedsync", "console"]),
    writer: z.enum(["couple", "supplier", "staff"]),
    actor: z.string().min(1).max(200),
  }),
  /** Refresh a connection's OAuth access token before it expires (job key per connection). */
  refresh_connection_token: z.object({ connectionId: z.uuid() }),
  /** Push a calendar connection's wedding events, then pull its busy times (job key `calendar-sync:<connectionId>`). */
  sync_calendar: z.object({
    connectionId: z.uuid(),
    /** false: push only. */
    pull: z.boolean().default(true),
    /** How many times in a row the provider answered 429/503 (drives the backoff). */
    backoff: z.number().int().min(0).default(0),
  }),
  /** Open or renew a calendar connection's push channel (Google watch / Graph subscription); job key `calendar-channel:<id>`. */
  renew_calendar_channel: z.object({ connectionId: z.uuid() }),
  /** Cron (every 15 min): queue a pull of every active calendar connection. Payload from graphile-worker's cron. */
  calendar_sweep: z.object({}).passthrough(),
  /** Run or resume one CRM import (sync_runs row `runId`, kind "import"); job key `import:<runId>`. */
  import_clients: z.object({ runId: z.uuid() }),
  /** Cron (hourly): start an import of every active CRM connection that has imported successfully before. */
  import_schedule: z.object({}).passthrough(),
  /** Cron (every 10 min): resume import runs whose job is gone or locked by a worker that died. */
  import_sweep: z.object({}).passthrough(),
  /** Deliver one message through its channel's providers with failover (job key `message:<id>`; reschedules itself while all are down). */
  deliver_message: z.object({ messageId: z.uuid() }),
  /** Check that an unconfirmed send was confirmed by a provider event; if not, send it again elsewhere (job key `message-confirm:<id>`). */
  confirm_message: z.object({ messageId: z.uuid(), provider: z.string().min(1).max(50) }),
  /** Send the coalesced "core fields changed" email for one supplier + couple (job key `core-fields-mail:<supplier>:<couple>`). */
  notify_core_fields_changed: z.object({ supplierId: z.uuid(), coupleId: z.uuid(), sinceSeq: z.number().int().min(0) }),
  /** Send one (endpoint, couple)'s outbound webhook deliveries in seq order (job key and queue `whout:<endpoint>:<couple>`). */
  deliver_webhooks: z.object({ endpointId: z.uuid(), coupleId: z.uuid().nullable() }),
  /** Process one stored inbound webhook delivery: map and apply it (job key `webhook-in:<deliveryId>`; retries are rescheduled by the domain). */
  process_inbound_webhook: z.object({ deliveryId: z.uuid() }),
  /** Cron (every 10 min) and on a wedding-day switch: refresh tokens and re-verify calendars of wedding-day couples (job key `wedding-day:prewarm`). */
  prewarm_wedding_days: z.object({}).passthrough(),
} as const;

export type TaskName = keyof typeof taskPayloadSchemas;
export type TaskPayloads = { [K in TaskName]: z.infer<(typeof taskPayloadSchemas)[K]> };
