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
}

/** "guestCount" → "Guest count" */
export function fieldLabel(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function show(value: unknown): string {
  if (value === null || value === undefined || value === "") return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function CoreFieldsView({ couple }: CoreFieldsViewProps) {
  return (
    <>
      <h1>{couple.displayName}</h1>
      <p className="muted">
        Version {couple.version}, updated {new Date(couple.updatedAt).toLocaleString()}
      </p>
      <h2>Core fields</h2>
      <dl className="fields">
        {Object.entries(couple.fields).map(([key, value]) => (
          <div key={key} style={{ display: "contents" }}>
            <dt>{fieldLabel(key)}</dt>
            <dd>{show(value)}</dd>
          </div>
        ))}
      </dl>
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
                  .map(([k, d]) => `${fieldLabel(k)}: ${show(d.old)} → ${show(d.new)}`)
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
