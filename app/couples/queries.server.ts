// Reading couples and their core fields, for staff (everything) and for a
// supplier (only couples connected to it; anything else is "not found").
import { and, asc, count, desc, eq, ilike, sql } from "drizzle-orm";
import type { DbOrTx } from "../db.server";
import { couples, coreFields, coreFieldVersions, supplierCouples, suppliers } from "../../db/schema";
import { NotFoundError } from "../errors";

export interface CoupleSummary {
  id: string;
  displayName: string;
  weddingDate: string | null;
  venueName: string | null;
  guestCount: number | null;
  version: number;
  updatedAt: Date;
}

const summaryColumns = {
  id: couples.id,
  displayName: couples.displayName,
  weddingDate: sql<string | null>`${coreFields.fields}->>'weddingDate'`,
  venueName: sql<string | null>`${coreFields.fields}->>'venueName'`,
  guestCount: sql<number | null>`(${coreFields.fields}->>'guestCount')::int`,
  version: coreFields.version,
  updatedAt: coreFields.updatedAt,
};

export async function listCouples(
  db: DbOrTx,
  opts: { search?: string; limit?: number; offset?: number } = {},
): Promise<{ items: CoupleSummary[]; total: number }> {
  const where = opts.search ? ilike(couples.displayName, `%${opts.search}%`) : undefined;
  const items = await db
    .select(summaryColumns)
    .from(couples)
    .innerJoin(coreFields, eq(coreFields.coupleId, couples.id))
    .where(where)
    .orderBy(sql`${coreFields.fields}->>'weddingDate'`, asc(couples.id))
    .limit(opts.limit ?? 50)
    .offset(opts.offset ?? 0);
  const [total] = await db.select({ n: count() }).from(couples).where(where);
  return { items, total: total?.n ?? 0 };
}

export async function getCouple(db: DbOrTx, coupleId: string) {
  if (!isUuid(coupleId)) throw new NotFoundError("No such couple");
  const [row] = await db
    .select({ couple: couples, core: coreFields })
    .from(couples)
    .innerJoin(coreFields, eq(coreFields.coupleId, couples.id))
    .where(eq(couples.id, coupleId));
  if (!row) throw new NotFoundError("No such couple");
  const connected = await db
    .select({ id: suppliers.id, name: suppliers.name, kind: suppliers.kind })
    .from(supplierCouples)
    .innerJoin(suppliers, eq(suppliers.id, supplierCouples.supplierId))
    .where(eq(supplierCouples.coupleId, coupleId))
    .orderBy(asc(suppliers.name));
  const history = await db
    .select()
    .from(coreFieldVersions)
    .where(eq(coreFieldVersions.coupleId, coupleId))
    .orderBy(desc(coreFieldVersions.version))
    .limit(50);
  return {
    id: row.couple.id,
    displayName: row.couple.displayName,
    version: row.core.version,
    fields: row.core.fields,
    updatedAt: row.core.updatedAt,
    suppliers: connected,
    history,
  };
}

export async function listCouplesForSupplier(db: DbOrTx, supplierId: string): Promise<CoupleSummary[]> {
  return db
    .select(summaryColumns)
    .from(supplierCouples)
    .innerJoin(couples, eq(couples.id, supplierCouples.coupleId))
    .innerJoin(coreFields, eq(coreFields.coupleId, couples.id))
    .where(eq(supplierCouples.supplierId, supplierId))
    .orderBy(sql`${coreFields.fields}->>'weddingDate'`, asc(couples.id));
}

/** A supplier may read a couple only while connected to it; otherwise the couple "does not exist". */
export async function getCoupleForSupplier(db: DbOrTx, supplierId: string, coupleId: string) {
  if (!isUuid(coupleId)) throw new NotFoundError("No such couple");
  const [link] = await db
    .select({ supplierId: supplierCouples.supplierId })
    .from(supplierCouples)
    .where(and(eq(supplierCouples.supplierId, supplierId), eq(supplierCouples.coupleId, coupleId)));
  if (!link) throw new NotFoundError("No such couple");
  return getCouple(db, coupleId);
}

export async function getSupplier(db: DbOrTx, supplierId: string) {
  const [row] = await db.select().from(suppliers).where(eq(suppliers.id, supplierId));
  if (!row) throw new NotFoundError("No such supplier");
  return row;
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
