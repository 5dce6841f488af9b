// A connector's OAuth client settings: the form for admin and integration staff,
// a read-only summary for everyone else. The stored client secret never leaves
// the server; the form only says whether one is stored.
import { Form } from "@remix-run/react";
import { CsrfField } from "../CsrfField";
import type { ConnectorRow, ConnectorSettingsResult, SettingsField } from "./types";

export function ConnectorSettingsForm({
  connector: c,
  result,
  pending,
}: {
  connector: ConnectorRow;
  /** The action's answer, when it was about this connector. */
  result: ConnectorSettingsResult | undefined;
  pending: boolean;
}) {
  const id = (field: SettingsField) => `${c.id}-${field}`;
  const invalid = result?.status === "invalid" ? result : undefined;
  const errorsOf = (field: SettingsField) => invalid?.fieldErrors[field];
  const values = invalid?.values ?? {
    enabled: c.enabled,
    clientId: c.clientId ?? "",
    scopes: c.defaultScopes ? "" : c.scopes.join("\n"),
  };
  // After a save the form starts over from the saved settings (and an empty secret field).
  const formKey = result?.status === "saved" ? `saved-${result.savedAt}` : invalid ? "invalid" : "settings";

  const describedBy = (field: SettingsField, hint?: boolean) =>
    [hint ? `${id(field)}-hint` : null, errorsOf(field) ? `${id(field)}-error` : null].filter(Boolean).join(" ") || undefined;
  const fieldError = (field: SettingsField) => {
    const errors = errorsOf(field);
    return errors ? (
      <p id={`${id(field)}-error`} className="field-error">
        {errors.join(" ")}
      </p>
    ) : null;
  };

  return (
    <Form method="post" preventScrollReset className="connector-settings" key={formKey} aria-label={`${c.name} settings`}>
      <CsrfField />
      <input type="hidden" name="intent" value="settings" />
      <input type="hidden" name="connectorId" value={c.id} />

      <ResultMessage result={result} />

      <div className="check">
        <input
          id={id("enabled")}
          name="enabled"
          type="checkbox"
          defaultChecked={values.enabled}
          aria-invalid={errorsOf("enabled") ? true : undefined}
          aria-describedby={describedBy("enabled")}
        />
        <label htmlFor={id("enabled")}>Enabled</label>
      </div>
      {fieldError("enabled")}

      <label htmlFor={id("clientId")}>OAuth client id</label>
      <input
        id={id("clientId")}
        name="clientId"
        type="text"
        autoComplete="off"
        spellCheck={false}
        defaultValue={values.clientId}
        aria-invalid={errorsOf("clientId") ? true : undefined}
        aria-describedby={describedBy("clientId")}
      />
      {fieldError("clientId")}

      <label htmlFor={id("clientSecret")}>Client secret</label>
      <input
        id={id("clientSecret")}
        name="clientSecret"
        type="password"
        autoComplete="new-password"
        defaultValue=""
        aria-invalid={errorsOf("clientSecret") ? true : undefined}
        aria-describedby={describedBy("clientSecret", true)}
      />
      <p id={`${id("clientSecret")}-hint`} className="field-hint">
        {c.hasSecret
          ? "A secret is stored. Leave this empty to keep it; type a new one to replace it."
          : "No secret is stored yet."}
      </p>
      {fieldError("clientSecret")}

      <label htmlFor={id("scopes")}>Scopes</label>
      <textarea
        id={id("scopes")}
        name="scopes"
        rows={4}
        className="mono"
        spellCheck={false}
        defaultValue={values.scopes}
        placeholder={c.defaultScopes ? c.scopes.join("\n") : undefined}
        aria-invalid={errorsOf("scopes") ? true : undefined}
        aria-describedby={describedBy("scopes", true)}
      />
      <p id={`${id("scopes")}-hint`} className="field-hint">
        One per line or separated by spaces. Empty asks for the connector&apos;s default scopes.
      </p>
      {fieldError("scopes")}

      <button type="submit" className="primary" disabled={pending}>
        {pending ? "Saving…" : `Save ${c.name} settings`}
      </button>
    </Form>
  );
}

function ResultMessage({ result }: { result: ConnectorSettingsResult | undefined }) {
  if (!result) return null;
  if (result.status === "saved") {
    return (
      <p className="alert ok" role="status">
        {result.message}
      </p>
    );
  }
  return (
    <div className="alert error" role="alert">
      <p>{result.message}</p>
      {result.status === "invalid" && result.fieldErrors._ ? <p>{result.fieldErrors._.join(" ")}</p> : null}
    </div>
  );
}

/** What staff who may not change settings see instead of the form. */
export function ConnectorSettingsSummary({ connector: c }: { connector: ConnectorRow }) {
  return (
    <dl className="connector-facts">
      <dt>Enabled</dt>
      <dd>{c.enabled ? "yes" : "no"}</dd>
      <dt>OAuth client id</dt>
      <dd>{c.clientId ? <code>{c.clientId}</code> : "–"}</dd>
      <dt>Client secret</dt>
      <dd>{c.hasSecret ? "a secret is stored" : "none stored"}</dd>
      <dt>Scopes</dt>
      <dd>
        {c.scopes.length ? c.scopes.map((s) => <code key={s}>{s}</code>) : "–"}
        {c.defaultScopes ? <span className="muted"> (defaults)</span> : null}
      </dd>
    </dl>
  );
}
