import { data, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useRouteError } from "@remix-run/react";
import stylesheet from "~/styles.css";
import { csrfTokenFor } from "~/auth/csrf.server";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];
export const meta: MetaFunction = () => [{ title: "WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { token, setCookie } = await csrfTokenFor(request, context);
  return data({ csrf: token, mode: context.hub.config.mode }, setCookie ? { headers: { "Set-Cookie": setCookie } } : undefined);
}

export function Layout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const message = isRouteErrorResponse(error)
    ? typeof error.data === "string" && error.data
      ? error.data
      : error.statusText
    : "Something went wrong on our side. It has been logged; please try again.";
  return (
    <main className="error-page" role="alert">
      <h1>{status === 404 ? "Not found" : status === 403 ? "Not allowed" : `Error ${status}`}</h1>
      <p>{status === 404 ? "There is nothing here, or you do not have access to it." : message}</p>
      <p>
        <a href="/">Back to the hub</a>
      </p>
    </main>
  );
}
