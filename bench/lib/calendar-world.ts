// Vendors with a Google Calendar connection each and their couples, inserted in bulk for the calendar bench.
import type { DbOrTx } from "../../app/db.server";
import type { Vault } from "../../app/crypto/secrets.server";
import { connections, coreFields, couples, suppliers, supplierCouples } from "../../db/schema";

export async function makeBenchWorld(
  db: DbOrTx,
  vault: Vault,
  opts: { weddings: number; vendors: number; token: string },
): Promise<{ connectionIds: string[]; coupleIds: string[] }> {
  const vendorRows = await db
    .insert(suppliers)
    .values(Array.from({ length: opts.vendors }, (_, i) => ({ name: `Bench Vendor ${i}`, kind: "photographer" })))
    .returning({ id: suppliers.id });
  const conns = await db
    .insert(connections)
    .values(
      vendorRows.map((v) => ({
        supplierId: v.id,
        connectorId: "google-calendar",
        credentialsEnc: vault.encryptJson({ accessToken: opts.token }),
      })),
    )
    .returning({ id: connections.id });
  const coupleIds: string[] = [];
  for (let start = 0; start < opts.weddings; start += 500) {
    const n = Math.min(500, opts.weddings - start);
    const rows = await db
      .insert(couples)
      .values(Array.from({ length: n }, (_, i) => ({ displayName: `Bench couple ${start + i}` })))
      .returning({ id: couples.id });
    await db.insert(coreFields).values(
      rows.map((c, i) => ({
        coupleId: c.id,
        version: 1,
        fields: {
          weddingDate: `2027-${String(((start + i) % 12) + 1).padStart(2, "0")}-${String(((start + i) % 28) + 1).padStart(2, "0")}`,
          timezone: "Europe/London",
          ceremonyTime: "14:00",
          receptionTime: "18:30",
          partner1Name: `Partner ${start + i}`,
          venueName: "Bench Hall",
          guestCount: 100,
        },
      })),
    );
    await db
      .insert(supplierCouples)
      .values(rows.map((c, i) => ({ supplierId: vendorRows[(start + i) % opts.vendors]!.id, coupleId: c.id })));
    coupleIds.push(...rows.map((r) => r.id));
  }
  return { connectionIds: conns.map((c) => c.id), coupleIds };
}
