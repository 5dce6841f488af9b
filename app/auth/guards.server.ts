// Who is asking, and may they? Loaders and actions call these first.
import { redirect, type AppLoadContext } from "@remix-run/node";
import { userForSession } from "./sessions.server";
import type { User, UserRole } from "./users.server";

export type StaffRole = Exclude<UserRole, "vendor">;

export async function sessionToken(request: Request, context: AppLoadContext): Promise<string | null> {
  const value: unknown = await context.hub.cookies.session.parse(request.headers.get("Cookie"));
  return typeof value === "string" && value.length > 0 ? value : null;
}

export async function getUser(request: Request, context: AppLoadContext): Promise<(User & { sessionHash: string }) | null> {
  const token = await sessionToken(request, context);
  if (!token) return null;
  return userForSession(context.hub.db, token);
}

function signInRedirect(request: Request): Response {
  const url = new URL(request.url);
  const next = url.pathname + url.search;
  return redirect(`/login?next=${encodeURIComponent(next)}`);
}

/** A signed-in staff member, optionally with one of `roles`. Vendors get 404: the console does not exist for them. */
export async function requireStaff(request: Request, context: AppLoadContext, roles?: StaffRole[]): Promise<User> {
  const user = await getUser(request, context);
  if (!user) throw signInRedirect(request);
  if (user.role === "vendor") throw new Response("Not found", { status: 404 });
  if (roles && !roles.includes(user.role)) {
    throw new Response(`This needs the ${roles.join(" or ")} role; you are signed in as ${user.role}.`, { status: 403 });
  }
  return user;
}

export async function requireVendor(
  request: Request,
  context: AppLoadContext,
): Promise<User & { supplierId: string; sessionHash: string }> {
  const user = await getUser(request, context);
  if (!user) throw signInRedirect(request);
  if (user.role !== "vendor" || !user.supplierId) throw new Response("Not found", { status: 404 });
  return { ...user, supplierId: user.supplierId };
}

export function homeFor(user: User): string {
  return user.role === "vendor" ? "/vendor" : "/console";
}
