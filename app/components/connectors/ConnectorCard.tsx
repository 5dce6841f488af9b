// One catalog entry on the console's Connectors page: what the connector is,
// its state, how many vendors use it, and (OAuth) its client settings.
import { AUTH_LABEL, CAPABILITY_LABEL, STATE_HELP, STATE_LABEL, rateLimitText } from "./labels";
import { ConnectorSettingsForm, ConnectorSettingsSummary } from "./ConnectorSettingsForm";
import type { ConnectorRow, ConnectorSettingsResult } from "./types";

export function StateBadge({ state }: { state: ConnectorRow["state"] }) {
  return (
    <span className={`badge state-${state}`} data-state={state}>
      {STATE_LABEL[state]}
    </span>
  );
}

export function ConnectorCard({
  connector: c,
  canEdit,
  result,
  pending,
}: {
  connector: ConnectorRow;
  canEdit: boolean;
  result: ConnectorSettingsResult | undefined;
  pending: boolean;
}) {
  const headingId = `connector-${c.id}`;
  return (
    <article className="connector-card" aria-labelledby={headingId} data-connector={c.id}>
      <header>
        <h3 id={headingId}>{c.name}</h3>
        <StateBadge state={c.state} />
      </header>
      <p className="muted">{c.description}</p>
      <dl className="connector-facts">
        <dt>State</dt>
        <dd>{STATE_HELP[c.state]}</dd>
        <dt>Authentication</dt>
        <dd>{AUTH_LABEL[c.authKind]}</dd>
        <dt>Capabilities</dt>
        <dd>
          <ul className="capabilities">
            {c.capabilities.map((cap) => (
              <li key={cap}>{CAPABILITY_LABEL[cap]}</li>
            ))}
          </ul>
        </dd>
        <dt>Rate limit</dt>
        <dd>{rateLimitText(c.rateLimit)}</dd>
        <dt>Active connections</dt>
        <dd data-testid="active-connections">{c.activeConnections}</dd>
        <dt>Documentation</dt>
        <dd>
          <a href={c.docsUrl} target="_blank" rel="noopener noreferrer">
            {c.name} API reference<span className="visually-hidden"> (opens in a new tab)</span>
          </a>
        </dd>
      </dl>
      {c.authKind === "oauth2" ? (
        <details className="connector-settings-panel" open={Boolean(result) || c.state === "missing-credentials"}>
          <summary>OAuth client settings</summary>
          {canEdit ? (
            <ConnectorSettingsForm connector={c} result={result} pending={pending} />
          ) : (
            <>
              <ConnectorSettingsSummary connector={c} />
              <p className="muted">Only admin and integration staff can change connector settings.</p>
            </>
          )}
        </details>
      ) : null}
    </article>
  );
}
