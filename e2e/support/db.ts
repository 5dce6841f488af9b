// Direct reads from the hub's embedded PostgreSQL, to pick test data the UI
// does not expose (e.g. a couple another supplier owns). Read-only by intent.
import pg from "pg";
import { E2E_DATABASE_URL } from "./env";

export async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: E2E_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface CoupleRow {
  id: string;
  display_name: string;
}

/** Couples connected to the supplier of the vendor user with this email. */
export async function couplesOfVendor(email: string): Promise<CoupleRow[]> {
  return query<CoupleRow>(
    `select c.id, c.display_name
       from users u
       join supplier_couples sc on sc.supplier_id = u.supplier_id
       join couples c on c.id = sc.couple_id
      where u.email = $1
      order by c.display_name, c.id`,
    [email],
  );
}

/** A couple with at least one supplier, none of them the supplier of this vendor user. */
export async function coupleNotConnectedToVendor(email: string): Promise<CoupleRow & { suppliers: string[] }> {
  const rows = await query<CoupleRow & { suppliers: string[] }>(
    `select c.id, c.display_name, array_agg(s.name order by s.name) as suppliers
       from couples c
       join supplier_couples sc on sc.couple_id = c.id
       join suppliers s on s.id = sc.supplier_id
      where not exists (
              select 1
                from supplier_couples mine
                join users u on u.supplier_id = mine.supplier_id
               where u.email = $1 and mine.couple_id = c.id)
      group by c.id, c.display_name
      order by c.display_name, c.id
      limit 1`,
    [email],
  );
  const row = rows[0];
  if (!row) throw new Error(`every couple is connected to the supplier of ${email}; the sandbox seed changed`);
  return row;
}
