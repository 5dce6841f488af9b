// Versions of a mapping: status and dates, "Make active" (rollback), loading a
// version into the editor, and a unified diff between two versions.
import { useId } from "react";
import { Form, useFetcher, useNavigation } from "@remix-run/react";
import { CsrfField } from "~/components/CsrfField";
import type { action as editorAction } from "~/routes/console.mappings.$slug";
import { when, type DiffView, type VersionView } from "./types";

export function VersionsPanel({
  slug,
  versions,
  canEdit,
  diff,
  onLoad,
}: {
  slug: string;
  versions: VersionView[];
  canEdit: boolean;
  diff: DiffView | null;
  onLoad: (v: VersionView) => void;
}) {
  const id = useId();
  const activator = useFetcher<typeof editorAction>();
  const navigation = useNavigation();
  const reply = activator.data;
  const busy = activator.state !== "idle";
  const latest = versions[0]?.version;
  const defaultTo = diff?.to ?? latest;
  const defaultFrom = diff?.from ?? versions[1]?.version ?? latest;

  return (
    <section className="mf-panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Versions</h2>
      {reply ? (
        <p className={`alert ${reply.ok ? "ok" : "error"}`} role={reply.ok ? "status" : "alert"}>
          {reply.message}
        </p>
      ) : null}
      {versions.length === 0 ? (
        <p className="muted">No versions yet. Save a draft, then publish it as version 1.</p>
      ) : (
        <table className="mf-versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Status</th>
              <th>Published</th>
              <th>Created</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.id} className={v.active ? "mf-active-version" : undefined} aria-label={`Version ${v.version}`}>
                <td>v{v.version}</td>
                <td>
                  {v.status === "draft" ? <span className="pill warn">draft</span> : <span className="pill">published</span>}{" "}
                  {v.active ? <span className="pill ok">active</span> : null}
                </td>
                <td>{when(v.publishedAt)}</td>
                <td>{when(v.createdAt)}</td>
                <td className="mf-version-actions">
                  {canEdit && v.status === "published" && !v.active ? (
                    <activator.Form method="post" action={`/console/mappings/${slug}`}>
                      <CsrfField />
                      <input type="hidden" name="intent" value="activate" />
                      <input type="hidden" name="version" value={v.version} />
                      <button type="submit" className="secondary" disabled={busy} aria-label={`Make version ${v.version} active`}>
                        Make active
                      </button>
                    </activator.Form>
                  ) : null}
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => onLoad(v)}
                    aria-label={`Load version ${v.version} into the editor`}
                  >
                    Load into editor
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {versions.length > 0 ? (
        <>
          <h3>Compare versions</h3>
          <Form method="get" className="mf-diff-form" preventScrollReset key={`${diff?.from}-${diff?.to}`}>
            <label htmlFor={`${id}-from`}>From</label>
            <select id={`${id}-from`} name="from" defaultValue={defaultFrom}>
              {versions.map((v) => (
                <option key={v.id} value={v.version}>
                  v{v.version}
                </option>
              ))}
            </select>
            <label htmlFor={`${id}-to`}>To</label>
            <select id={`${id}-to`} name="to" defaultValue={defaultTo}>
              {versions.map((v) => (
                <option key={v.id} value={v.version}>
                  v{v.version}
                </option>
              ))}
            </select>
            <button type="submit" className="secondary" disabled={navigation.state !== "idle"}>
              Show diff
            </button>
          </Form>
          {diff?.error ? (
            <p className="alert error" role="alert">
              {diff.error}
            </p>
          ) : null}
          {diff?.text ? (
            <pre className="mf-diff" aria-label={`Diff from version ${diff.from} to version ${diff.to}`}>
              {diff.text.split("\n").map((line, i) => (
                <span
                  key={i}
                  className={
                    line.startsWith("+") && !line.startsWith("+++")
                      ? "add"
                      : line.startsWith("-") && !line.startsWith("---")
                        ? "del"
                        : line.startsWith("@@")
                          ? "hunk"
                          : undefined
                  }
                >
                  {line}
                  {"\n"}
                </span>
              ))}
            </pre>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
