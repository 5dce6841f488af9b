import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { processInboundDelivery } from "../app/webhooks/inbound/process.server";

/** One processing attempt of an inbound delivery; the delivery's own retries and dead-lettering are in the domain module. */
export const processInboundWebhookTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { deliveryId } = taskPayloadSchemas.process_inbound_webhook.parse(payload);
    const outcome = await processInboundDelivery(ctx, deliveryId);
    ctx.log.info({ deliveryId, outcome }, "inbound webhook processed");
  };
