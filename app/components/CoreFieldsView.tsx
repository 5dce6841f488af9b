import type { ReactNode } from "react";

export interface CoreFieldsViewProps {
  couple: {
    displayName: string;
    version: number;
    fields: Record<string, unknown>;
    updatedAt: string | Date;
    suppliers: { id: string; name: string; kind: string }[];
    history: {
      version: number;
      source: string;
      actor: string;
      createdAt: string | Date;
      diff: Record<string, { old: unknown; new: unknown }>;
    }[];
  };
  /** Shown under the version line: e.g. the live-updates indicator and notice. */
  live?: ReactNode;
  /** Shown after the read-only core fields: e.g. the console's edit form. */
  editor?: ReactNode;
}

/** "guestCount" → "Guest count" */
export function fieldLabel(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A field value as text; empty values are a dash. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function CoreFieldsView({ couple, live, editor }: CoreFieldsViewProps) {
  return (
    <>
      <h1>{couple.displayName}</h1>
      <p className="muted">
        Version {couple.version}, updated {new Date(couple.updatedAt).toLocaleString()}
      </p>
      {live}
      <h2>Core fields</h2>
      <dl className="fields">
        {Object.entries(couple.fields).map(([key, value]) => (
          <div key={key} style={{ display: "contents" }}>
            <dt>{fieldLabel(key)}</dt>
            <dd>{showValue(value)}</dd>
          </div>
        ))}
      </dl>
      {editor}
      <h2>Connected suppliers</h2>
      {couple.suppliers.length ? (
        <ul>
          {couple.suppliers.map((s) => (
            <li key={s.id}>
              {s.name} <span className="muted">({s.kind})</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No suppliers connected.</p>
      )}
      <h2>History</h2>
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>When</th>
            <th>Source</th>
            <th>By</th>
            <th>Changed</th>
          </tr>
        </thead>
        <tbody>
          {couple.history.map((h) => (
            <tr key={h.version}>
              <td>{h.version}</td>
              <td>{new Date(h.createdAt).toLocaleString()}</td>
              <td>{h.source}</td>
              <td>{h.actor}</td>
              <td>
                {Object.entries(h.diff)
                  .slice(0, 6)
                  .map(([k, d]) => `${fieldLabel(k)}: ${showValue(d.old)} → ${showValue(d.new)}`)
                  .join("; ")}
                {Object.keys(h.diff).length > 6 ? ` and ${Object.keys(h.diff).length - 6} more` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
