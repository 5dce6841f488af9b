// GET /console/audit.csv?<the page's filters>: every audit entry the filters
// match (newest first, no paging) as RFC 4180 CSV with a header line, streamed
// in keyset batches. The export itself is audited.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireStaff } from "~/auth/guards.server";
import { recordAudit } from "~/audit/audit.server";
import { auditCsvStream, parseAuditFilters } from "~/audit/query.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context, ["admin", "ops"]);
  const parsed = parseAuditFilters(new URL(request.url).searchParams);
  if (!parsed.ok)
    return new Response(`${parsed.message}\n`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  await recordAudit(
    context.hub.db,
    { type: "user", id: user.id, label: user.email },
    { action: "audit.export", entityType: "audit_log", after: { filters: parsed.values } },
  );
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return new Response(auditCsvStream(context.hub.db, parsed.filters), {
    headers: {
      // header=present: RFC 4180's optional parameter, the first line names the columns.
      "Content-Type": "text/csv; charset=utf-8; header=present",
      "Content-Disposition": `attachment; filename="audit-log-${stamp}.csv"`,
      "Cache-Control": "no-store",
    },
  });
}
