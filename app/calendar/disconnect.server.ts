// What disconnecting a calendar connection does to the events the hub put
// there: the vendor chooses (connections.settings.onDisconnect) between
// "remove" (the default: the hub cleans up after itself) and "keep".
// Runs before the tokens are revoked, while the hub can still call the provider.
import type { HubContext } from "../runtime/context.server";
import type { connections } from "../../db/schema";
import { calendarProviderFor } from "./registry.server";

export type OnDisconnect = "remove" | "keep";

export const onDisconnectChoice = (settings: Record<string, unknown>): OnDisconnect =>
  settings.onDisconnect === "keep" ? "keep" : "remove";

export async function cleanUpCalendarOnDisconnect(
  ctx: HubContext,
  conn: typeof connections.$inferSelect,
): Promise<{ removed: number } | { kept: true } | { failed: string } | null> {
  const provider = calendarProviderFor(conn.connectorId);
  if (provider?.unwatch) {
    const unwatch = provider.unwatch;
    await unwatch(ctx, conn.id).catch((err: unknown) =>
      ctx.log.warn(
        { connectionId: conn.id, err: err instanceof Error ? err.message : String(err) },
        "could not close push channels",
      ),
    );
  }
  if (!provider?.removeAll) return null;
  if (onDisconnectChoice(conn.settings) === "keep") return { kept: true };
  try {
    return { removed: await provider.removeAll(ctx, conn.id) };
  } catch (err) {
    // The vendor asked to disconnect: do it even when the provider cannot be reached; say what was left.
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.warn({ connectionId: conn.id, err: message }, "could not remove the hub's calendar events before disconnecting");
    return { failed: message };
  }
}
