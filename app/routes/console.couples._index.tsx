import type { LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { listCouples } from "~/couples/queries.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const url = new URL(request.url);
  const search = url.searchParams.get("q")?.trim().slice(0, 100) || undefined;
  const page = Math.max(1, Number.parseInt(url.searchParams.get("page") ?? "1", 10) || 1);
  const result = await listCouples(context.hub.db, { search, limit: 50, offset: (page - 1) * 50 });
  return { ...result, search: search ?? "", page };
}

export default function Couples() {
  const { items, total, search, page } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Couples &amp; core fields</h1>
      <Form method="get" className="search" role="search">
        <label htmlFor="q" className="visually-hidden">
          Search couples
        </label>
        <input id="q" name="q" type="search" defaultValue={search} placeholder="Search by name" />
        <button type="submit" className="primary">
          Search
        </button>
      </Form>
      <p className="muted">
        {total} couple{total === 1 ? "" : "s"}
        {search ? ` matching “${search}”` : ""}
      </p>
      <table>
        <thead>
          <tr>
            <th>Couple</th>
            <th>Wedding date</th>
            <th>Venue</th>
            <th>Guests</th>
            <th>Version</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id}>
              <td>
                <Link to={`/console/couples/${c.id}`}>{c.displayName}</Link>
              </td>
              <td>{c.weddingDate ?? "–"}</td>
              <td>{c.venueName ?? "–"}</td>
              <td>{c.guestCount ?? "–"}</td>
              <td>{c.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > page * 50 ? <Link to={`?q=${encodeURIComponent(search)}&page=${page + 1}`}>Next page</Link> : null}
    </>
  );
}
