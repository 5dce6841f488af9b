import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff, type StaffRole } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { listConnectors, updateConnectorSettings } from "~/connectors/connections.server";
import { findConnector } from "~/connectors/catalog";
import { NotFoundError, ValidationError } from "~/errors";
import { ConnectorCard } from "~/components/connectors/ConnectorCard";
import { CATEGORY_LABEL, CATEGORY_ORDER, parseScopes } from "~/components/connectors/labels";
import type { ConnectorRow, ConnectorSettingsResult, SettingsField } from "~/components/connectors/types";

/** Staff roles that may change connector settings; ops may look. */
const EDITORS: StaffRole[] = ["admin", "integration"];

const SETTINGS_FIELDS: readonly string[] = ["enabled", "clientId", "clientSecret", "scopes"] satisfies SettingsField[];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  const views = await listConnectors(context.hub);
  const connectors: ConnectorRow[] = views.map((v) => {
    const m = v.manifest;
    const defaults = m.auth.kind === "oauth2" ? m.auth.scopes : [];
    return {
      id: m.id,
      name: m.name,
      category: m.category,
      description: m.description,
      authKind: m.auth.kind,
      capabilities: m.capabilities,
      rateLimit: m.rateLimit,
      docsUrl: m.docsUrl,
      state: v.state,
      enabled: v.enabled,
      clientId: v.clientId,
      hasSecret: v.hasSecret,
      scopes: v.scopes,
      defaultScopes: v.scopes.join(" ") === defaults.join(" "),
      activeConnections: v.activeConnections,
    };
  });
  return { connectors, canEdit: EDITORS.includes(user.role as StaffRole), role: user.role };
}

const reply = (result: ConnectorSettingsResult, status = 200) => data(result, { status });

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const connectorId = String(form.get("connectorId") ?? "") || null;
  if (!EDITORS.includes(user.role as StaffRole)) {
    return reply(
      {
        status: "forbidden",
        connectorId,
        message: `Changing connector settings needs the admin or integration role; you are signed in as ${user.role}.`,
      },
      403,
    );
  }
  if (form.get("intent") !== "settings") return reply({ status: "bad_request", connectorId, message: "Unknown action." }, 400);
  const manifest = connectorId ? findConnector(connectorId) : undefined;
  if (!connectorId || !manifest) {
    return reply({ status: "not_found", connectorId, message: "There is no such connector. Reload the page." }, 404);
  }
  if (manifest.auth.kind !== "oauth2") {
    return reply(
      { status: "bad_request", connectorId, message: `${manifest.name} has no OAuth client settings: vendors enter their own.` },
      400,
    );
  }

  const enabled = form.get("enabled") === "on";
  const clientId = String(form.get("clientId") ?? "").trim();
  const clientSecret = String(form.get("clientSecret") ?? "");
  const scopesText = String(form.get("scopes") ?? "");
  const scopes = parseScopes(scopesText);
  try {
    await updateConnectorSettings(
      context.hub,
      connectorId,
      // An empty secret keeps the stored one.
      { enabled, clientId, clientSecret: clientSecret || undefined, scopes },
      { type: "user", id: user.id, label: user.email },
    );
  } catch (err) {
    if (err instanceof ValidationError) {
      return reply(
        {
          status: "invalid",
          connectorId,
          message: `${manifest.name} settings were not saved: check the fields marked below.`,
          fieldErrors: fieldErrorsFor(err.fieldErrors, scopes),
          values: { enabled, clientId, scopes: scopesText },
        },
        422,
      );
    }
    if (err instanceof NotFoundError) return reply({ status: "not_found", connectorId, message: err.message }, 404);
    throw err;
  }
  const parts = [
    enabled ? "enabled" : "switched off",
    clientSecret ? "new client secret stored" : null,
    scopes.length ? `${scopes.length} scope${scopes.length === 1 ? "" : "s"}` : "default scopes",
  ].filter(Boolean);
  return reply({
    status: "saved",
    connectorId,
    message: `${manifest.name} settings saved (${parts.join(", ")}).`,
    savedAt: Date.now(),
  });
}

/** The domain's field paths ("scopes.3") as the form's fields, each message naming what it is about. */
function fieldErrorsFor(errors: Record<string, string[]>, scopes: string[]): Partial<Record<SettingsField | "_", string[]>> {
  const out: Partial<Record<SettingsField | "_", string[]>> = {};
  for (const [path, messages] of Object.entries(errors)) {
    const [head, index] = path.split(".");
    const field = head && SETTINGS_FIELDS.includes(head) ? (head as SettingsField) : "_";
    const scope = field === "scopes" && index !== undefined ? scopes[Number(index)] : undefined;
    const prefix = scope !== undefined ? `Scope “${scope.length > 40 ? `${scope.slice(0, 40)}…` : scope}”: ` : "";
    (out[field] ??= []).push(...messages.map((m) => prefix + m));
  }
  return out;
}

export default function Connectors() {
  const { connectors, canEdit, role } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submitting = navigation.state === "submitting" ? navigation.formData?.get("connectorId") : null;
  const cardResult = result && (result.status === "saved" || result.status === "invalid") ? result : undefined;
  const pageResult = result && result.status !== "saved" && result.status !== "invalid" ? result : undefined;

  return (
    <>
      <h1>Connectors</h1>
      <p className="muted">
        Every provider the hub can talk to. OAuth connectors need the hub&apos;s own client id and secret at the provider; in the
        sandbox the provider simulators stand in until those are saved.
        {canEdit ? null : ` You are signed in as ${role}: settings are read-only.`}
      </p>
      {pageResult ? (
        <p className="alert error" role="alert">
          {pageResult.message}
        </p>
      ) : null}
      {CATEGORY_ORDER.map((category) => {
        const inCategory = connectors.filter((c) => c.category === category);
        if (inCategory.length === 0) return null;
        return (
          <section key={category} className="connector-group" aria-labelledby={`category-${category}`}>
            <h2 id={`category-${category}`}>{CATEGORY_LABEL[category]}</h2>
            <div className="connector-grid">
              {inCategory.map((c) => (
                <ConnectorCard
                  key={c.id}
                  connector={c}
                  canEdit={canEdit}
                  result={cardResult?.connectorId === c.id ? cardResult : undefined}
                  pending={submitting === c.id}
                />
              ))}
            </div>
          </section>
        );
      })}
    </>
  );
}
