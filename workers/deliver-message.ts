import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { confirmMessage, deliverMessage } from "../app/messaging/deliver.server";
import { notifyCoreFieldsChanged } from "../app/messaging/consumers.server";

export const deliverMessageTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { messageId } = taskPayloadSchemas.deliver_message.parse(payload);
    const outcome = await deliverMessage(ctx, messageId);
    ctx.log.debug({ messageId, ...outcome }, "deliver_message done");
  };

export const notifyCoreFieldsChangedTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { supplierId, coupleId, sinceSeq } = taskPayloadSchemas.notify_core_fields_changed.parse(payload);
    await notifyCoreFieldsChanged(ctx, supplierId, coupleId, sinceSeq);
  };

export const confirmMessageTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { messageId, provider } = taskPayloadSchemas.confirm_message.parse(payload);
    const outcome = await confirmMessage(ctx, messageId, provider);
    ctx.log.info({ messageId, provider, outcome }, "confirm_message done");
  };
