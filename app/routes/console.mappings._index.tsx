import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ValidationError } from "~/errors";
import { createMapping, listMappings } from "~/mapping/store.server";
import { TARGETS, type TargetId } from "~/mapping/targets";
import { CsrfField } from "~/components/CsrfField";
import { EmptyState } from "~/components/Shell";
import { MAPPING_EDITORS, actorOf, errorReply, reply, requireEditor, targetField, text } from "~/components/mapping/forms.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  const mappings = await listMappings(context.hub.db);
  return {
    mappings: mappings.map((m) => ({ ...m, targetLabel: TARGETS[m.target].label })),
    targets: Object.values(TARGETS).map((t) => ({ id: t.id, label: t.label })),
    connectors: [...new Set(mappings.map((m) => m.source.connector))].sort(),
    canCreate: MAPPING_EDITORS.includes(user.role as (typeof MAPPING_EDITORS)[number]),
    role: user.role,
    editorRoles: MAPPING_EDITORS,
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const gate = await requireEditor(request, context);
  if (gate.denied) return gate.denied;
  const form = await readVerifiedForm(request, context);
  if (text(form, "intent") !== "create")
    return reply({ ok: false, message: "This form does not say what to do. Reload the page." }, 400);
  const slug = text(form, "slug").trim();
  const name = text(form, "name").trim();
  const connector = text(form, "connector").trim();
  const object = text(form, "object").trim();
  try {
    const missing: Record<string, string[]> = {};
    if (!name) missing.name = ["must not be empty"];
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(connector)) missing.connector = ["must be a connector id, like tave or google-calendar"];
    if (!object) missing.object = ["must not be empty, e.g. client or event"];
    let target: TargetId | null = null;
    try {
      target = targetField(form);
    } catch (err) {
      if (err instanceof ValidationError) Object.assign(missing, err.fieldErrors);
      else throw err;
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) missing.slug = ["must be kebab-case, like tave-client-to-wedsync-client"];
    if (Object.keys(missing).length || !target)
      throw new ValidationError("Some fields need attention; nothing was created.", missing);
    await createMapping(context.hub.db, { slug, name, source: { connector, object }, target }, actorOf(gate.user));
  } catch (err) {
    const answer = errorReply(err, "create");
    // A taken slug is the slug field's problem.
    if (answer.init?.status === 409) answer.data.fieldErrors = { slug: [answer.data.message] };
    return answer;
  }
  return redirect(`/console/mappings/${slug}`);
}

function status(m: { activeVersion: number | null; latestVersion: number | null; hasDraft: boolean }) {
  if (m.latestVersion === null) return <span className="pill">empty</span>;
  return (
    <>
      {m.activeVersion !== null ? <span className="pill ok">published</span> : null}{" "}
      {m.hasDraft ? <span className="pill warn">draft v{m.latestVersion}</span> : null}
    </>
  );
}

export default function MappingsPage() {
  const { mappings, targets, connectors, canCreate, role, editorRoles } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const errors = result && !result.ok ? (result.fieldErrors ?? {}) : {};
  const fieldError = (name: string) =>
    errors[name]?.length ? (
      <p className="field-error" id={`new-${name}-error`}>
        {errors[name]!.join("; ")}
      </p>
    ) : null;
  const invalid = (name: string) =>
    errors[name]?.length ? { "aria-invalid": true, "aria-describedby": `new-${name}-error` } : {};

  return (
    <>
      <h1>Mappings</h1>
      <p className="muted">
        JSONata mappings from provider payloads to WedSync targets. Each is versioned: a draft is edited in the studio, publishing
        makes an immutable version, and the active version is what imports, webhooks and syncs run.
      </p>
      {mappings.length === 0 ? (
        <EmptyState title="No mappings yet">
          <p>Mappings from external payloads to core fields will be listed here with their versions.</p>
        </EmptyState>
      ) : (
        <table className="mapping-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Slug</th>
              <th>Source</th>
              <th>Target</th>
              <th>Active</th>
              <th>Latest</th>
              <th>Status</th>
              <th>Used by</th>
            </tr>
          </thead>
          <tbody>
            {mappings.map((m) => (
              <tr key={m.id}>
                <td>
                  <Link to={`/console/mappings/${m.slug}`}>{m.name}</Link>
                </td>
                <td>
                  <code>{m.slug}</code>
                </td>
                <td>
                  {m.source.connector} / {m.source.object}
                </td>
                <td>{m.targetLabel}</td>
                <td>{m.activeVersion !== null ? `v${m.activeVersion}` : "–"}</td>
                <td>{m.latestVersion !== null ? `v${m.latestVersion}` : "–"}</td>
                <td>{status(m)}</td>
                <td>{m.usedBy.length ? m.usedBy.join(", ") : <span className="muted">not used yet</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {canCreate ? (
        <section className="editor" aria-labelledby="new-mapping">
          <h2 id="new-mapping">New mapping</h2>
          <Form method="post" className="new-mapping" noValidate>
            <CsrfField />
            <input type="hidden" name="intent" value="create" />
            {result && !result.ok ? (
              <p className="alert error" role="alert">
                {result.message}
              </p>
            ) : null}
            <div className="field-group">
              <div className="field">
                <label htmlFor="new-slug">Slug</label>
                <input
                  id="new-slug"
                  name="slug"
                  type="text"
                  required
                  placeholder="tave-client-to-core-fields"
                  {...invalid("slug")}
                />
                {fieldError("slug")}
              </div>
              <div className="field">
                <label htmlFor="new-name">Name</label>
                <input
                  id="new-name"
                  name="name"
                  type="text"
                  required
                  placeholder="Tave client → core fields"
                  {...invalid("name")}
                />
                {fieldError("name")}
              </div>
              <div className="field">
                <label htmlFor="new-connector">Source connector</label>
                <input
                  id="new-connector"
                  name="connector"
                  type="text"
                  list="known-connectors"
                  required
                  {...invalid("connector")}
                />
                <datalist id="known-connectors">
                  {connectors.map((c) => (
                    <option key={c} value={c} />
                  ))}
                </datalist>
                {fieldError("connector")}
              </div>
              <div className="field">
                <label htmlFor="new-object">Source object</label>
                <input id="new-object" name="object" type="text" required placeholder="client" {...invalid("object")} />
                {fieldError("object")}
              </div>
              <div className="field">
                <label htmlFor="new-target">Target</label>
                <select id="new-target" name="target" defaultValue="core-fields" {...invalid("target")}>
                  {targets.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.label}
                    </option>
                  ))}
                </select>
                {fieldError("target")}
              </div>
            </div>
            <div className="form-actions">
              <button type="submit" className="primary" disabled={busy}>
                {busy ? "Creating…" : "Create mapping"}
              </button>
            </div>
          </Form>
        </section>
      ) : (
        <p className="muted">
          Creating and editing mappings needs the {editorRoles.join(" or ")} role; you are signed in as {role}.
        </p>
      )}
    </>
  );
}
