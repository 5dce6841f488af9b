import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { getSupplier, listCouplesForSupplier } from "~/couples/queries.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const [supplier, couples] = await Promise.all([
    getSupplier(context.hub.db, user.supplierId),
    listCouplesForSupplier(context.hub.db, user.supplierId),
  ]);
  return { supplier: { name: supplier.name, kind: supplier.kind }, couples };
}

export default function VendorHome() {
  const { supplier, couples } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>{supplier.name}</h1>
      <p className="muted">
        {supplier.kind} · {couples.length} connected wedding{couples.length === 1 ? "" : "s"}
      </p>
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
