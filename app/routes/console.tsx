import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { CONSOLE_NAV, Shell } from "~/components/Shell";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  return { user: { name: user.name, email: user.email, role: user.role } };
}

export default function ConsoleLayout() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <Shell user={user} nav={CONSOLE_NAV} area="Console">
      <Outlet />
    </Shell>
  );
}
