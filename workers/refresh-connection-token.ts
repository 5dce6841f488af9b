import type { Task } from "graphile-worker";
import type { HubContext } from "../app/runtime/context.server";
import { taskPayloadSchemas } from "../app/jobs/catalog";
import { refreshConnectionToken } from "../app/oauth/tokens.server";

export const refreshConnectionTokenTask =
  (ctx: HubContext): Task =>
  async (payload) => {
    const { connectionId } = taskPayloadSchemas.refresh_connection_token.parse(payload);
    const outcome = await refreshConnectionToken(ctx, connectionId);
    ctx.log.info({ connectionId, outcome }, "token refresh");
  };
