// GET /console/imports/<runId>/failures.csv: a run's failed records as RFC 4180
// CSV (external id, reason, field errors), downloaded as a file. Audited.
import { type LoaderFunctionArgs } from "@remix-run/node";
import { requireStaff } from "~/auth/guards.server";
import { NotFoundError } from "~/errors";
import { failuresCsvFor } from "~/import/console.server";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  try {
    const { filename, csv } = await failuresCsvFor(context.hub.db, params.runId ?? "", {
      type: "user",
      id: user.id,
      label: user.email,
    });
    return new Response(csv, {
      headers: {
        // header=present: RFC 4180's optional parameter, the first line names the columns.
        "Content-Type": "text/csv; charset=utf-8; header=present",
        "Content-Disposition": `attachment; filename="${filename}"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (err) {
    if (err instanceof NotFoundError)
      return new Response(`${err.message}\n`, { status: 404, headers: { "Content-Type": "text/plain" } });
    throw err;
  }
}
