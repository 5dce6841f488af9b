// What a core-field change causes for messaging: a "core fields changed" email
// to each connected supplier with an email address, queued in the change's own
// transaction. The job key (per supplier + couple, "preserve_run_at") coalesces
// a burst of edits into one email sent CORE_FIELDS_MAIL_DELAY_MS after the
// first; the message's idempotency key names the last event it covers, so a
// re-run of the job never sends the same changes twice.
import { and, asc, desc, eq, gt, isNotNull, like, lte } from "drizzle-orm";
import { couples, events, messages, supplierCouples, suppliers } from "../../db/schema";
import type { DbOrTx } from "../db.server";
import { enqueueJobs } from "../jobs/enqueue.server";
import { registerEventConsumer } from "../core-fields/consumers.server";
import { CORE_FIELDS } from "../core-fields/schema";
import type { HubContext } from "../runtime/context.server";
import { sendMessage } from "./send.server";

export const CORE_FIELDS_MAIL_DELAY_MS = 60_000;
export const coreFieldsMailJobKey = (supplierId: string, coupleId: string) => `core-fields-mail:${supplierId}:${coupleId}`;
const requestPrefix = (supplierId: string, coupleId: string) => `core-fields:${supplierId}:${coupleId}:`;

let delayMs = CORE_FIELDS_MAIL_DELAY_MS;
/** Tests shorten the coalescing window. */
export function setCoreFieldsMailDelay(ms: number): void {
  delayMs = ms;
}

registerEventConsumer(async (tx, event) => {
  if (event.type !== "core_fields.updated") return;
  const rows = await tx
    .select({ id: suppliers.id })
    .from(supplierCouples)
    .innerJoin(suppliers, eq(suppliers.id, supplierCouples.supplierId))
    .where(and(eq(supplierCouples.coupleId, event.coupleId), isNotNull(suppliers.email)));
  const runAt = new Date(Date.now() + delayMs);
  // One add_jobs call for every vendor (a wedding may have hundreds), boosted once for the couple.
  await enqueueJobs(
    tx,
    "notify_core_fields_changed",
    rows.map((s) => ({
      payload: { supplierId: s.id, coupleId: event.coupleId, sinceSeq: event.seq },
      jobKey: coreFieldsMailJobKey(s.id, event.coupleId),
      runAt,
    })),
    { jobKeyMode: "preserve_run_at", forCouple: event.coupleId },
  );
});

const label = (field: string) => (CORE_FIELDS as Record<string, { label: string } | undefined>)[field]?.label ?? field;
const scalar = (v: unknown): string | number | boolean | null =>
  v === null || v === undefined
    ? null
    : typeof v === "string" || typeof v === "number" || typeof v === "boolean"
      ? v
      : JSON.stringify(v);

/** Runs in the job: one email covering every change since the last one sent to this supplier for this couple. */
export async function notifyCoreFieldsChanged(
  ctx: HubContext,
  supplierId: string,
  coupleId: string,
  upToSeq: number,
): Promise<{ sent: boolean }> {
  return ctx.db.transaction(async (tx) => {
    const [supplier] = await tx.select().from(suppliers).where(eq(suppliers.id, supplierId));
    const [couple] = await tx.select().from(couples).where(eq(couples.id, coupleId));
    if (!supplier?.email || !couple) return { sent: false };
    const fromSeq = await lastNotifiedSeq(tx, supplierId, coupleId);
    const evs = await tx
      .select()
      .from(events)
      .where(
        and(
          eq(events.coupleId, coupleId),
          eq(events.type, "core_fields.updated"),
          gt(events.seq, fromSeq),
          lte(events.seq, Math.max(upToSeq, fromSeq)),
        ),
      )
      .orderBy(asc(events.seq));
    // The latest event may be newer than the payload's (preserve_run_at keeps the first payload's run time, not its seq).
    const latest = await tx
      .select()
      .from(events)
      .where(
        and(eq(events.coupleId, coupleId), eq(events.type, "core_fields.updated"), gt(events.seq, Math.max(upToSeq, fromSeq))),
      )
      .orderBy(asc(events.seq));
    const all = [...evs, ...latest];
    if (all.length === 0) return { sent: false };
    const changes = new Map<string, { old: unknown; new: unknown }>();
    for (const e of all)
      for (const [field, d] of Object.entries(e.changedFields)) {
        const prev = changes.get(field);
        changes.set(field, { old: prev ? prev.old : d.old, new: d.new });
      }
    const list = [...changes]
      .filter(([, d]) => JSON.stringify(d.old) !== JSON.stringify(d.new))
      .map(([f, d]) => ({ label: label(f), old: scalar(d.old), new: scalar(d.new) }));
    const lastSeq = all.at(-1)!.seq;
    if (list.length === 0) return { sent: false };
    await sendMessage(tx, {
      recipients: [supplier.email],
      channel: "email",
      template: "core_fields_changed",
      data: {
        supplierName: supplier.name,
        coupleName: couple.displayName,
        changes: list,
        url: `${ctx.publicUrl()}/vendor/couples/${coupleId}`,
      },
      idempotencyKey: `${requestPrefix(supplierId, coupleId)}${lastSeq}`,
      coupleId,
      supplierId,
    });
    return { sent: true };
  });
}

async function lastNotifiedSeq(db: DbOrTx, supplierId: string, coupleId: string): Promise<number> {
  const prefix = requestPrefix(supplierId, coupleId);
  const [row] = await db
    .select({ key: messages.requestKey })
    .from(messages)
    .where(
      and(
        eq(messages.supplierId, supplierId),
        eq(messages.template, "core_fields_changed"),
        like(messages.requestKey, `${prefix}%`),
      ),
    )
    .orderBy(desc(messages.createdAt))
    .limit(1);
  const seq = Number(row?.key?.slice(prefix.length));
  return Number.isFinite(seq) ? seq : 0;
}
