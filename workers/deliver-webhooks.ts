import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { runDeliveryQueue } from "../app/webhooks/outbound/deliver.server";

export const deliverWebhooksTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { endpointId, coupleId } = taskPayloadSchemas.deliver_webhooks.parse(payload);
    const outcome = await runDeliveryQueue(ctx, endpointId, coupleId);
    ctx.log.debug({ endpointId, coupleId, ...outcome }, "webhook delivery job done");
  };
