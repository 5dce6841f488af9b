// A Tave connection for the import specs, written directly rather than through
// the vendor's Connections page, so this spec depends only on the import pages:
// the sandbox Tave simulator's key, encrypted with the hub's own sandbox key
// from its data folder (what connectWithCredentials stores).
import fs from "node:fs";
import path from "node:path";
import { createVault } from "../../app/crypto/secrets.server";
import { query } from "./db";
import { E2E_DATA_DIR } from "./env";

/** The sandbox Tave simulator's account (simulators/index.ts): 60 clients, one bad email, one bad date. */
export const SANDBOX_TAVE = { apiKey: "tave-sandbox-key", clients: 60, failures: 2 } as const;

function hubVault() {
  const raw = fs.readFileSync(path.join(E2E_DATA_DIR, "encryption-keys"), "utf8").trim();
  const keys = raw.split(",").map((entry) => {
    const at = entry.indexOf(":");
    return { id: entry.slice(0, at), key: Buffer.from(entry.slice(at + 1), "base64") };
  });
  return createVault(keys);
}

/**
 * A supplier no vendor user belongs to (other specs count their vendors'
 * couples and connections), with an active Tave connection to the sandbox account.
 */
export async function seedTaveConnection(): Promise<{ supplierName: string; connectionId: string }> {
  const [supplier] = await query<{ id: string; name: string }>(
    `select s.id, s.name from suppliers s
      where not exists (select 1 from users u where u.supplier_id = s.id)
      order by s.name limit 1`,
  );
  if (!supplier) throw new Error("the sandbox has no supplier without a vendor user; the seed changed");
  const [existing] = await query<{ id: string }>(
    `select id from connections where supplier_id = $1 and connector_id = 'tave' and status = 'active'`,
    [supplier.id],
  );
  const connectionId =
    existing?.id ??
    (
      await query<{ id: string }>(
        `insert into connections (supplier_id, connector_id, status, account_id, account_label, credentials_enc)
         values ($1, 'tave', 'active', 'sandbox-studio', 'Sandbox Studio', $2) returning id`,
        [supplier.id, hubVault().encryptJson({ apiKey: SANDBOX_TAVE.apiKey })],
      )
    )[0]!.id;
  return { supplierName: supplier.name, connectionId };
}

/** Leaves the sandbox as other specs expect it: no connections (the imported couples stay with that supplier). */
export async function removeTaveConnection(connectionId: string): Promise<void> {
  await query(`update connections set status = 'disconnected', credentials_enc = null where id = $1`, [connectionId]);
}
