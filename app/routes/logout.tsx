import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { readVerifiedForm } from "~/auth/csrf.server";
import { sessionToken } from "~/auth/guards.server";
import { revokeSession } from "~/auth/sessions.server";

export async function loader() {
  // Signing out changes state, so it is a POST (with CSRF) only.
  throw redirect("/");
}

export async function action({ request, context }: ActionFunctionArgs) {
  await readVerifiedForm(request, context);
  const token = await sessionToken(request, context);
  if (token) await revokeSession(context.hub.db, token);
  return redirect("/login", {
    headers: { "Set-Cookie": await context.hub.cookies.session.serialize("", { maxAge: 0 }) },
  });
}
