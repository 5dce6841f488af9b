import { createCookie, type Cookie } from "@remix-run/node";

/** Signed, HttpOnly, SameSite=Lax cookies: the session token and the CSRF token. */
export function createHubCookies(secret: string, secure: boolean): { session: Cookie; csrf: Cookie } {
  const base = { httpOnly: true, sameSite: "lax" as const, secure, path: "/", secrets: [secret] };
  return {
    session: createCookie("hub_session", { ...base, maxAge: 12 * 60 * 60 }),
    csrf: createCookie("hub_csrf", base),
  };
}
