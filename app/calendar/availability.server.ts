// Vendors' busy times as a couple sees them: for each supplier connected to
// the couple, the blocks pulled from its calendars within a window. Only
// times and busy/tentative are shared; a vendor's event titles stay private.
import { and, asc, eq, gte, inArray, lte, ne } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { availabilityBlocks, supplierCouples, suppliers } from "../../db/schema";
import type { Principal } from "../core-fields/principal";
import { assertCanAccessCouple } from "../core-fields/access.server";

export interface VendorAvailability {
  supplierId: string;
  name: string;
  kind: string;
  busy: { start: string; end: string; allDay: boolean; status: "busy" | "tentative" }[];
}

/** Pull-side channel: a NOTIFY with {supplierId} after a pull changed blocks, relayed to couples over Socket.IO. */
export const AVAILABILITY_CHANNEL = "hub_availability";

export async function readCoupleAvailability(
  db: DbOrTx,
  p: Principal,
  coupleId: string,
  window: { from: string; to: string },
): Promise<{ coupleId: string; from: string; to: string; vendors: VendorAvailability[] }> {
  await assertCanAccessCouple(db, p, coupleId);
  const vendors = await db
    .select({ id: suppliers.id, name: suppliers.name, kind: suppliers.kind })
    .from(supplierCouples)
    .innerJoin(suppliers, eq(suppliers.id, supplierCouples.supplierId))
    .where(eq(supplierCouples.coupleId, coupleId))
    .orderBy(asc(suppliers.name));
  const ids = vendors.map((v) => v.id);
  // starts_at/ends_at keep the provider's text (date or RFC 3339 with offset); compare on their first 10
  // characters (the date) so all-day and timed blocks are windowed alike.
  const blocks = ids.length
    ? await db
        .select()
        .from(availabilityBlocks)
        .where(
          and(
            inArray(availabilityBlocks.supplierId, ids),
            ne(availabilityBlocks.status, "free"),
            lte(availabilityBlocks.startsAt, `${window.to}T23:59:59Z`),
            gte(availabilityBlocks.endsAt, window.from),
          ),
        )
        .orderBy(asc(availabilityBlocks.startsAt))
    : [];
  return {
    coupleId,
    ...window,
    vendors: vendors.map((v) => ({
      supplierId: v.id,
      name: v.name,
      kind: v.kind,
      busy: blocks
        .filter((b) => b.supplierId === v.id)
        .map((b) => ({
          start: b.startsAt,
          end: b.endsAt,
          allDay: b.allDay,
          status: b.status === "tentative" ? ("tentative" as const) : ("busy" as const),
        })),
    })),
  };
}
