// Telling an endpoint's owner that the hub stopped sending to it: the
// supplier's vendor users (a supplier endpoint) or the staff member who created
// it get an email through messaging (sendMessage queues it in this same
// transaction), and the notice is recorded in the audit log.
import { and, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../../db.server";
import { recordAudit, systemActor } from "../../audit/audit.server";
import { sendMessage } from "../../messaging/send.server";
import { users } from "../../../db/schema";

export async function notifyEndpointDisabled(
  db: DbOrTx,
  endpoint: { id: string; name: string; url: string | null; supplierId: string | null; createdBy: string | null },
  reason: string,
  disabledAt: Date = new Date(),
): Promise<string[]> {
  const recipients = endpoint.supplierId
    ? await db
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(and(eq(users.supplierId, endpoint.supplierId), isNull(users.disabledAt)))
    : endpoint.createdBy
      ? await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, endpoint.createdBy))
      : [];
  const userIds = recipients.map((r) => r.id);
  const title = `Webhook endpoint "${endpoint.name}" was disabled`;
  let messageIds: string[] = [];
  if (recipients.length) {
    const sent = await sendMessage(db, {
      recipients: recipients.map((r) => r.email),
      channel: "email",
      template: "alert_raised",
      data: {
        title,
        severity: "warning",
        detail: `${reason}. The hub stopped sending to ${endpoint.url ?? "this endpoint"}; deliveries wait and go out in order once you fix the receiver and enable the endpoint again.`,
      },
      // One notice per disabling, however often this runs.
      idempotencyKey: `webhook-endpoint-disabled:${endpoint.id}:${disabledAt.toISOString()}`,
      supplierId: endpoint.supplierId ?? undefined,
    });
    messageIds = sent.messages.map((m) => m.id);
  }
  await recordAudit(db, systemActor("webhooks"), {
    action: "webhook_endpoint.owner_notified",
    entityType: "webhook_endpoint",
    entityId: endpoint.id,
    after: { userIds, messageIds, channel: "email", subject: title, reason },
  });
  return userIds;
}
