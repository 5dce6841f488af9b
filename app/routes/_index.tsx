import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { getUser, homeFor } from "~/auth/guards.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await getUser(request, context);
  throw redirect(user ? homeFor(user) : "/login");
}
