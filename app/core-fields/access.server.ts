// Who may see what. A supplier sees only couples connected to it; anything
// else is "not found", so ids of other vendors' weddings are never confirmed.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { ForbiddenError, NotFoundError } from "../errors";
import type { Principal } from "./principal";

export async function canAccessCouple(db: DbOrTx, p: Principal, coupleId: string): Promise<boolean> {
  if (!isUuid(coupleId)) return false;
  const res =
    p.type === "supplier"
      ? await db.execute(sql`select 1 from supplier_couples where supplier_id = ${p.supplierId} and couple_id = ${coupleId}`)
      : await db.execute(sql`select 1 from couples where id = ${coupleId}`);
  return res.rows.length > 0;
}

export async function assertCanAccessCouple(db: DbOrTx, p: Principal, coupleId: string): Promise<void> {
  if (!(await canAccessCouple(db, p, coupleId))) throw new NotFoundError("No such couple");
}

/** The supplier feed: staff and the WedSync app see any supplier's; a supplier only its own. */
export async function canAccessSupplier(db: DbOrTx, p: Principal, supplierId: string): Promise<boolean> {
  if (!isUuid(supplierId)) return false;
  if (p.type === "supplier") return p.supplierId === supplierId;
  if (p.type === "app" && p.app === "wedme") return false;
  const res = await db.execute(sql`select 1 from suppliers where id = ${supplierId}`);
  return res.rows.length > 0;
}

export async function assertCanAccessSupplier(db: DbOrTx, p: Principal, supplierId: string): Promise<void> {
  if (!(await canAccessSupplier(db, p, supplierId))) throw new NotFoundError("No such supplier");
}

/** Vendor fields are the supplier's own: written by that supplier, the WedSync app or staff. */
export function assertCanWriteVendorFields(p: Principal, supplierId: string): void {
  if (p.type === "supplier" && p.supplierId !== supplierId) throw new NotFoundError("No such supplier");
  if (p.type === "app" && p.app === "wedme") throw new ForbiddenError("The WedMe app cannot change a vendor's own fields.");
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Other vendors' own-field changes are not shown to a supplier (they still take a place in the couple's sequence). */
export function canSeeEvent(p: Principal, event: { type: string; supplierId: string | null }): boolean {
  return !(p.type === "supplier" && event.type === "vendor_fields.updated" && event.supplierId !== p.supplierId);
}
