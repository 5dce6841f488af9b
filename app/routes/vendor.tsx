import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { getSupplier } from "~/couples/queries.server";
import { Shell } from "~/components/Shell";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const supplier = await getSupplier(context.hub.db, user.supplierId);
  return {
    user: { name: user.name, email: user.email, role: supplier.name },
    supplier: { name: supplier.name, kind: supplier.kind },
  };
}

export default function VendorLayout() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <Shell
      user={user}
      area="Vendor"
      nav={[
        { to: "/vendor", label: "My weddings", end: true },
        { to: "/vendor/connections", label: "Connections" },
        { to: "/vendor/calendar-feed", label: "Calendar feed" },
        { to: "/vendor/webhooks", label: "Webhooks" },
        { to: "/vendor/notifications", label: "Notifications" },
      ]}
    >
      <Outlet />
    </Shell>
  );
}
