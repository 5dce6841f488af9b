import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { getSupplier, listCouplesForSupplier } from "~/couples/queries.server";
import { LiveUpdates, type HubEvent } from "~/components/LiveUpdates";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  // The supplier row first: its feed position is then at or before the list below, so the live feed misses nothing.
  const supplier = await getSupplier(context.hub.db, user.supplierId);
  const couples = await listCouplesForSupplier(context.hub.db, user.supplierId);
  return {
    supplier: { id: supplier.id, name: supplier.name, kind: supplier.kind },
    after: supplier.lastFeedSeq,
    me: user.email,
    couples,
  };
}

export default function VendorHome() {
  const { supplier, after, me, couples } = useLoaderData<typeof loader>();
  const names = new Map(couples.map((c) => [c.id, c.displayName]));
  return (
    <>
      <h1>{supplier.name}</h1>
      <p className="muted">
        {supplier.kind} · {couples.length} connected wedding{couples.length === 1 ? "" : "s"}
      </p>
      <LiveUpdates
        key={supplier.id}
        room={`supplier:${supplier.id}`}
        after={after}
        me={me}
        // Another supplier's own fields are theirs: not announced here.
        ignore={(e: HubEvent) => e.type === "vendor_fields.updated" && e.supplierId !== supplier.id}
        subject={(e: HubEvent) => names.get(e.coupleId) ?? null}
      />
      <table>
        <thead>
          <tr>
            <th>Couple</th>
            <th>Wedding date</th>
            <th>Venue</th>
            <th>Guests</th>
          </tr>
        </thead>
        <tbody>
          {couples.map((c) => (
            <tr key={c.id}>
              <td>
                <Link to={`/vendor/couples/${c.id}`}>{c.displayName}</Link>
              </td>
              <td>{c.weddingDate ?? "–"}</td>
              <td>{c.venueName ?? "–"}</td>
              <td>{c.guestCount ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
