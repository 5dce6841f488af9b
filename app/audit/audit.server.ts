// The audit trail: every change by a person or a system, with before and after.
// Append-only (a database trigger refuses UPDATE and DELETE). Reading it for the
// console (filters, pages, CSV) is in query.server.ts.
import type { DbOrTx } from "../db.server";
import { auditLog } from "../../db/schema";

export type Actor =
  | { type: "user"; id: string; label: string }
  | { type: "api_token"; id: string; label: string }
  | { type: "system"; label: string };

export const systemActor = (label: string): Actor => ({ type: "system", label });

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
}

export async function recordAudit(db: DbOrTx, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorType: actor.type,
    actorId: actor.type === "system" ? null : actor.id,
    actorLabel: actor.label,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
  });
}
