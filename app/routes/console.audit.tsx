import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { listAudit } from "~/audit/audit.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context, ["admin", "ops"]);
  return { entries: await listAudit(context.hub.db, 200) };
}

export default function AuditLog() {
  const { entries } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Every change by a person or the system, newest first. The log is append-only.</p>
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>What</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.at).toLocaleString()}</td>
              <td>{e.actorLabel}</td>
              <td>{e.action}</td>
              <td>
                {e.entityType}
                {e.entityId ? ` ${e.entityId.slice(0, 8)}` : ""}
              </td>
              <td>
                <code>{e.after ? JSON.stringify(e.after).slice(0, 120) : "–"}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
