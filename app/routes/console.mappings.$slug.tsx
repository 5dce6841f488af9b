import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import flowStyles from "@xyflow/react/dist/style.css";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ConflictError, NotFoundError, ValidationError } from "~/errors";
import { activateVersion, diffVersions, getMapping, publishDraft, saveDraft, type MappingVersion } from "~/mapping/store.server";
import { TARGETS } from "~/mapping/targets";
import { MAPPING_EDITORS, actorOf, casesField, errorReply, reply, requireEditor, text } from "~/components/mapping/forms.server";
import { MappingEditor } from "~/components/mapping/MappingEditor";
import type { DiffView, EditorData, VersionView } from "~/components/mapping/types";
import { canonical } from "~/components/mapping/model";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: flowStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.mapping.name} · Mappings · WedSync Integration Hub` : "Mapping · WedSync Integration Hub" },
];

const notFound = () => new Response("Not found", { status: 404 });

const versionView = (v: MappingVersion, activeId: string | null): VersionView => ({
  id: v.id,
  version: v.version,
  status: v.status,
  publishedAt: v.publishedAt ? v.publishedAt.toISOString() : null,
  createdAt: v.createdAt.toISOString(),
  active: v.id === activeId,
  expression: v.expression,
  cases: v.cases,
});

export async function loader({ request, context, params }: LoaderFunctionArgs): Promise<EditorData> {
  const user = await requireStaff(request, context);
  const db = context.hub.db;
  const slug = params.slug ?? "";
  let detail;
  try {
    detail = await getMapping(db, slug);
  } catch (err) {
    if (err instanceof NotFoundError) throw notFound();
    throw err;
  }
  const url = new URL(request.url);
  let diff: DiffView | null = null;
  const from = Number(url.searchParams.get("from"));
  const to = Number(url.searchParams.get("to"));
  if (url.searchParams.has("from") && url.searchParams.has("to")) {
    if (!Number.isInteger(from) || !Number.isInteger(to))
      diff = { from, to, text: null, error: "Choose two versions to compare." };
    else {
      try {
        diff = { from, to, text: await diffVersions(db, slug, from, to), error: null };
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        diff = { from, to, text: null, error: err.message };
      }
    }
  }
  const activeId = detail.active?.id ?? null;
  const versions = detail.versions.map((v) => versionView(v, activeId));
  const baseVersion = detail.draft ?? detail.active ?? detail.versions[0] ?? null;
  return {
    mapping: {
      slug: detail.slug,
      name: detail.name,
      source: detail.source,
      target: detail.target,
      targetLabel: TARGETS[detail.target].label,
      activeVersion: detail.activeVersion,
      latestVersion: detail.latestVersion,
      hasDraft: detail.hasDraft,
      usedBy: detail.usedBy,
    },
    targetFields: TARGETS[detail.target].fields,
    versions,
    base: baseVersion ? (versions.find((v) => v.id === baseVersion.id) ?? null) : null,
    canEdit: MAPPING_EDITORS.includes(user.role as (typeof MAPPING_EDITORS)[number]),
    role: user.role,
    editorRoles: MAPPING_EDITORS,
    diff,
  };
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const gate = await requireEditor(request, context);
  if (gate.denied) return gate.denied;
  const form = await readVerifiedForm(request, context);
  const db = context.hub.db;
  const slug = params.slug ?? "";
  const actor = actorOf(gate.user);
  const intent = text(form, "intent");
  try {
    switch (intent) {
      case "save": {
        const cases = casesField(form);
        const v = await saveDraft(db, slug, { expression: text(form, "expression"), cases }, actor);
        return reply({ ok: true, intent, version: v.version, message: `Saved draft version ${v.version}.` });
      }
      case "publish": {
        const expression = text(form, "expression");
        const cases = casesField(form);
        const detail = await getMapping(db, slug);
        const same = (v: MappingVersion | null) =>
          Boolean(v && v.expression === expression && canonical(v.cases) === canonical(cases));
        if (!detail.draft && same(detail.active)) {
          throw new ConflictError(`Nothing to publish: the editor matches the active version ${detail.active!.version}.`);
        }
        // What is in the editor is what gets published: it becomes the draft first.
        if (!same(detail.draft)) await saveDraft(db, slug, { expression, cases }, actor);
        const v = await publishDraft(db, slug, actor);
        return reply({
          ok: true,
          intent,
          version: v.version,
          message: `Published version ${v.version}; it is now the active version.`,
        });
      }
      case "activate": {
        const version = Number(text(form, "version"));
        if (!Number.isInteger(version) || version < 1)
          throw new ValidationError("Choose a version to make active", { version: ["must be a version number"] });
        const v = await activateVersion(db, slug, version, actor);
        return reply({ ok: true, intent, version: v.version, message: `Version ${v.version} is now the active version.` });
      }
      default:
        return reply({ ok: false, message: "This form does not say what to do. Reload the page and try again." }, 400);
    }
  } catch (err) {
    return errorReply(err, intent);
  }
}

export default function MappingEditorPage() {
  const data = useLoaderData<typeof loader>();
  return <MappingEditor key={data.mapping.slug} data={data} />;
}
