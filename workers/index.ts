// The graphile-worker task list. Tasks stay thin: parse the payload, call a domain function.
import type { TaskList } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { diagnosticsPing } from "./diagnostics-ping";
import { applyCoreFields } from "./apply-core-fields";
import { refreshConnectionTokenTask } from "./refresh-connection-token";
import { syncCalendarTask } from "./sync-calendar";
import { renewCalendarChannelTask } from "./renew-calendar-channel";
import { calendarSweepTask } from "./calendar-sweep";
import { importClientsTask } from "./import-clients";
import { confirmMessageTask, deliverMessageTask, notifyCoreFieldsChangedTask } from "./deliver-message";
import { importScheduleTask, importSweepTask } from "./scheduled-imports";
import { instrumentTaskList } from "../app/ops/metrics.server";
import { processInboundWebhookTask } from "./process-inbound-webhook";
import { deliverWebhooksTask } from "./deliver-webhooks";
import { checkConsistencyTask } from "./check-consistency";
import { prewarmWeddingDaysTask } from "./prewarm-wedding-days";
import { CONSISTENCY_TASK } from "../app/ops/consistency.server";

export function createTaskList(ctx: HubContext): TaskList {
  // Every task's duration and outcome (hub_job_duration_seconds), without touching each task.
  return instrumentTaskList({
    diagnostics_ping: diagnosticsPing(ctx),
    apply_core_fields: applyCoreFields(ctx),
    refresh_connection_token: refreshConnectionTokenTask(ctx),
    sync_calendar: syncCalendarTask(ctx),
    renew_calendar_channel: renewCalendarChannelTask(ctx),
    calendar_sweep: calendarSweepTask(ctx),
    import_clients: importClientsTask(ctx),
    deliver_message: deliverMessageTask(ctx),
    confirm_message: confirmMessageTask(ctx),
    notify_core_fields_changed: notifyCoreFieldsChangedTask(ctx),
    import_schedule: importScheduleTask(ctx),
    import_sweep: importSweepTask(ctx),
    process_inbound_webhook: processInboundWebhookTask(ctx),
    deliver_webhooks: deliverWebhooksTask(ctx),
    [CONSISTENCY_TASK]: checkConsistencyTask(ctx),
    prewarm_wedding_days: prewarmWeddingDaysTask(ctx),
  });
}
