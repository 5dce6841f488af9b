import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { completeAuthorization } from "~/oauth/flow.server";
import { DomainError } from "~/errors";

// The provider sends the vendor's browser back here with ?code=…&state=… (or ?error=…).
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  try {
    const done = await completeAuthorization(context.hub, {
      sessionHash: user.sessionHash,
      connectorId: params.connectorId ?? "",
      params: new URL(request.url).searchParams,
    });
    return redirect(`/vendor/connections?connected=${encodeURIComponent(done.accountLabel)}`);
  } catch (err) {
    if (err instanceof DomainError) throw new Response(err.message, { status: err.status });
    throw err;
  }
}

export function ErrorBoundary() {
  const error = useRouteError();
  const message =
    isRouteErrorResponse(error) && typeof error.data === "string" ? error.data : "The connection could not be completed.";
  return (
    <main className="error-page" role="alert">
      <h1>Connection not completed</h1>
      <p>{message}</p>
      <p>
        <Link to="/vendor/connections">Back to Connections</Link>
      </p>
    </main>
  );
}
