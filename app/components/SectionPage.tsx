import { EmptyState } from "./Shell";
import type { SectionRows } from "~/dashboard/sections.server";

export function SectionPage({
  title,
  emptyTitle,
  data,
  children,
}: {
  title: string;
  emptyTitle: string;
  data: SectionRows;
  children: React.ReactNode;
}) {
  return (
    <>
      <h1>{title}</h1>
      {data.rows.length === 0 ? (
        <EmptyState title={emptyTitle}>{children}</EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              {data.columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r, i) => (
              <tr key={i}>
                {r.map((cell, j) => (
                  <td key={j}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
