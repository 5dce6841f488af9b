// CSRF protection for every mutating console form: a random token in a signed
// HttpOnly cookie, echoed by the form as `_csrf` (double submit). A request
// from another site cannot read the cookie, so it cannot supply the field.
import type { AppLoadContext } from "@remix-run/node";
import { randomToken, safeEqual } from "../crypto/secrets.server";

export const CSRF_FIELD = "_csrf";
export const CSRF_REFUSAL = "This form has expired or did not come from the hub. Reload the page and submit it again.";

/** The request's CSRF token, and a Set-Cookie header when a new one had to be issued. */
export async function csrfTokenFor(
  request: Request,
  context: AppLoadContext,
): Promise<{ token: string; setCookie: string | null }> {
  const existing: unknown = await context.hub.cookies.csrf.parse(request.headers.get("Cookie"));
  if (typeof existing === "string" && existing.length >= 32) return { token: existing, setCookie: null };
  const token = randomToken(32);
  return { token, setCookie: await context.hub.cookies.csrf.serialize(token) };
}

/** Read a submitted form, refusing it with 403 unless it carries the cookie's CSRF token. */
export async function readVerifiedForm(request: Request, context: AppLoadContext): Promise<FormData> {
  const cookieToken: unknown = await context.hub.cookies.csrf.parse(request.headers.get("Cookie"));
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new Response("The form could not be read. Reload the page and try again.", { status: 400 });
  }
  const submitted = form.get(CSRF_FIELD);
  if (typeof cookieToken !== "string" || typeof submitted !== "string" || !safeEqual(cookieToken, submitted)) {
    throw new Response(CSRF_REFUSAL, { status: 403, statusText: "Forbidden" });
  }
  return form;
}
