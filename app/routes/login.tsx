import {
  data,
  redirect,
  type HeadersFunction,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { CsrfField } from "~/components/CsrfField";
import { getUser, homeFor } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { signIn } from "~/auth/sign-in.server";
import { RateLimitedError, UnauthorizedError } from "~/errors";
import type { User } from "~/auth/users.server";

export const meta: MetaFunction = () => [{ title: "Sign in · WedSync Integration Hub" }];

// Document requests only carry action headers a route passes on (Retry-After on throttling).
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const passOn = new Headers();
  const retryAfter = actionHeaders.get("Retry-After");
  if (retryAfter) passOn.set("Retry-After", retryAfter);
  return passOn;
};

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await getUser(request, context);
  if (user) throw redirect(homeFor(user));
  return null;
}

/** Only same-site paths, and only into the area this user may use. */
function safeNext(next: FormDataEntryValue | null, user: User): string {
  const home = homeFor(user);
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return home;
  return next.startsWith(home) ? next : home;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readVerifiedForm(request, context);
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  if (!email || !password) return data({ error: "Enter your email and password." }, { status: 400 });
  try {
    const result = await signIn(context.hub.db, {
      email,
      password,
      ip: context.clientIp,
      userAgent: request.headers.get("user-agent") ?? undefined,
    });
    return redirect(safeNext(form.get("next"), result.user), {
      headers: { "Set-Cookie": await context.hub.cookies.session.serialize(result.token, { expires: result.expiresAt }) },
    });
  } catch (err) {
    if (err instanceof RateLimitedError) {
      return data({ error: err.message }, { status: 429, headers: { "Retry-After": String(err.retryAfterSeconds) } });
    }
    if (err instanceof UnauthorizedError) return data({ error: err.message }, { status: 401 });
    throw err;
  }
}

export default function Login() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const navigation = useNavigation();
  return (
    <main className="login">
      <h1>Sign in to the Integration Hub</h1>
      <Form method="post" aria-describedby={result?.error ? "login-error" : undefined}>
        <CsrfField />
        <input type="hidden" name="next" value={params.get("next") ?? ""} />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {result?.error ? (
          <p id="login-error" className="alert error" role="alert">
            {result.error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={navigation.state === "submitting"}>
          {navigation.state === "submitting" ? "Signing in…" : "Sign in"}
        </button>
      </Form>
      <p className="muted">Staff land in the console; vendors in their own area.</p>
    </main>
  );
}
