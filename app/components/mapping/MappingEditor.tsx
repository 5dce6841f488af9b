// The mapping studio's editor: source fields (inferred from the test cases'
// sample inputs) on the left of the canvas, target fields on the right, an edge
// per mapped target; the whole expression as text below, always editable; a
// live preview, the test cases, and the versions.
//
// Graph and text: the text is the truth. The graph is read from it on every
// change (expressionToGraph). A graph edit (connect, edit an edge, delete one)
// writes the text anew (graphToExpression, keeping leading comments) and is
// only possible while the text reads as a graph; a text-only expression is
// never rewritten, and the editor says why it cannot be drawn.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { useBlocker, useFetcher, useRouteLoaderData } from "@remix-run/react";
import type { loader as rootLoader } from "~/root";
import type { action as editorAction } from "~/routes/console.mappings.$slug";
import { inferSourceFields } from "~/mapping/infer";
import { graphToExpression } from "~/mapping/graph";
import {
  applyEdges,
  canonical,
  canvasEdges,
  caseDrafts,
  compileProblem,
  connect,
  docFromText,
  hasInnerComments,
  removeEdge,
  sampleInputs,
  setExpression,
  sourceRows,
  storedCases,
  targetRows,
  type CaseDraft,
} from "./model";
import { MappingCanvas } from "./MappingCanvas";
import { EdgeEditor } from "./EdgeEditor";
import { CasesPanel } from "./CasesPanel";
import { VersionsPanel } from "./VersionsPanel";
import { PreviewPanel } from "./PreviewPanel";
import { when, type CasesAnswer, type EditorData, type PreviewAnswer, type VersionView } from "./types";

const EMPTY_EXPRESSION = graphToExpression([]);

interface Baseline {
  key: string;
  expression: string;
  cases: string;
}

const baselineOf = (base: VersionView | null): Baseline => ({
  key: base ? `${base.id}:${base.status}:${base.expression}:${canonical(base.cases)}` : "none",
  expression: base?.expression ?? EMPTY_EXPRESSION,
  cases: canonical(base?.cases ?? []),
});

async function postForm<T>(
  url: string,
  fields: Record<string, string>,
  signal?: AbortSignal,
): Promise<T | { kind: "failed"; message: string }> {
  // URL-encoded, not multipart: a browser sends multipart text with CRLF line breaks, which
  // would shift every syntax error position (and change multi-line strings) by a character a line.
  const body = new URLSearchParams(fields);
  const res = await fetch(url, { method: "POST", body, signal, headers: { Accept: "application/json" } });
  const type = res.headers.get("Content-Type") ?? "";
  if (type.includes("application/json")) return (await res.json()) as T;
  if (res.redirected || type.includes("text/html")) {
    return { kind: "failed", message: "Your session may have ended: reload the page (and sign in again) to continue." };
  }
  const text = (await res.text()).trim();
  return { kind: "failed", message: text || `The request failed (HTTP ${res.status}).` };
}

export function MappingEditor({ data }: { data: EditorData }) {
  const { mapping, targetFields, versions, base, canEdit, role, editorRoles, diff } = data;
  const id = useId();
  const csrf = useRouteLoaderData<typeof rootLoader>("root")?.csrf ?? "";
  const textRef = useRef<HTMLTextAreaElement>(null);

  const [doc, setDoc] = useState(() => docFromText(base?.expression ?? EMPTY_EXPRESSION));
  const [cases, setCases] = useState<CaseDraft[]>(() => caseDrafts(base?.cases ?? []));
  const [loaded, setLoaded] = useState<Baseline>(() => baselineOf(base));
  const [loadedFrom, setLoadedFrom] = useState<VersionView | null>(base);
  const [selected, setSelected] = useState<string | null>(null);
  const [sampleKey, setSampleKey] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ answer: PreviewAnswer | null; running: boolean }>({ answer: null, running: false });
  const [tests, setTests] = useState<{ running: boolean; answer: CasesAnswer | null }>({ running: false, answer: null });
  const [localError, setLocalError] = useState<string | null>(null);

  const stored = useMemo(() => storedCases(cases), [cases]);
  const caseProblems = stored.problems;
  const hasCaseProblems = Object.keys(caseProblems).length > 0;
  const currentCases = useMemo(() => canonical(stored.cases), [stored]);
  const dirty = doc.text !== loaded.expression || hasCaseProblems || currentCases !== loaded.cases;

  // The page's data changed (saved, published, rolled back): an untouched editor follows it.
  const incoming = useMemo(() => baselineOf(base), [base]);
  if (incoming.key !== loaded.key) {
    setLoaded(incoming);
    setLoadedFrom(base);
    if (!dirty) {
      setDoc(docFromText(incoming.expression));
      setCases(caseDrafts(base?.cases ?? []));
    }
  }

  const isGraph = doc.view.kind === "graph";
  const graphEditable = canEdit && isGraph;
  const edges = doc.view.kind === "graph" ? doc.view.edges : doc.lastEdges;

  const samples = useMemo(() => sampleInputs(cases), [cases]);
  const inferred = useMemo(() => inferSourceFields(samples), [samples]);
  const sources = useMemo(() => sourceRows(inferred, edges), [inferred, edges]);
  const targets = useMemo(() => targetRows(targetFields, isGraph ? edges : null), [targetFields, edges, isGraph]);
  const drawn = useMemo(() => canvasEdges(edges, sources), [edges, sources]);
  const needed = targets.filter((t) => t.needed).map((t) => t.path);

  const onConnect = useCallback((source: string, target: string) => {
    setDoc((d) => (d.view.kind === "graph" ? applyEdges(d, connect(d.view.edges, source, target)) : d));
    setSelected(target);
  }, []);
  const onDelete = useCallback((target: string) => {
    setDoc((d) => (d.view.kind === "graph" ? applyEdges(d, removeEdge(d.view.edges, target)) : d));
    setSelected((s) => (s === target ? null : s));
  }, []);
  const onApplyEdge = (target: string, expression: string): string | null => {
    if (doc.view.kind !== "graph") return "the expression is text-only";
    const problem = compileProblem(expression);
    if (problem) return problem;
    const next = applyEdges(doc, setExpression(doc.view.edges, target, expression));
    if (next.view.kind !== "graph") return "with this, the expression would no longer read as a graph";
    setDoc(next);
    return null;
  };

  // ---------------------------------------------------------------- unsaved changes
  // Leaving the page (another console page, a reload, closing the tab) asks first.
  // Moving within this page (the diff's ?from=&to=) keeps the editor as it is.
  const guard = canEdit && dirty;
  const blocker = useBlocker(({ currentLocation, nextLocation }) => guard && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (blocker.state !== "blocked") return;
    if (window.confirm("Leave this mapping? The editor's unsaved changes will be lost.")) blocker.proceed();
    else blocker.reset();
  }, [blocker]);
  useEffect(() => {
    if (!guard) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [guard]);

  // ---------------------------------------------------------------- live preview (debounced)
  const sample = cases.find((c) => c.key === sampleKey) ?? cases[0] ?? null;
  const sampleText = sample?.inputText ?? null;
  useEffect(() => {
    if (sampleText === null) return;
    const ctrl = new AbortController();
    const timer = window.setTimeout(() => {
      setPreview((p) => ({ ...p, running: true }));
      postForm<PreviewAnswer>(
        `/console/mappings/${encodeURIComponent(mapping.slug)}/preview`,
        { _csrf: csrf, expression: doc.text, input: sampleText, target: mapping.target },
        ctrl.signal,
      )
        .then((answer) => setPreview({ answer, running: false }))
        .catch((err: unknown) => {
          if (ctrl.signal.aborted) return;
          setPreview({
            answer: { kind: "failed", message: `The preview could not run: ${(err as Error).message}` },
            running: false,
          });
        });
    }, 300);
    return () => {
      window.clearTimeout(timer);
      ctrl.abort();
    };
  }, [doc.text, sampleText, mapping.slug, mapping.target, csrf]);

  // ---------------------------------------------------------------- test cases
  const runTests = () => {
    if (hasCaseProblems) {
      setTests({ running: false, answer: { kind: "failed", message: "Some test cases need attention first (marked below)." } });
      return;
    }
    setTests((t) => ({ ...t, running: true }));
    postForm<CasesAnswer>(`/console/mappings/${encodeURIComponent(mapping.slug)}/cases`, {
      _csrf: csrf,
      expression: doc.text,
      target: mapping.target,
      cases: JSON.stringify(stored.cases),
    })
      .then((answer) => setTests({ running: false, answer }))
      .catch((err: unknown) =>
        setTests({
          running: false,
          answer: { kind: "failed", message: `The test cases could not run: ${(err as Error).message}` },
        }),
      );
  };

  // ---------------------------------------------------------------- save and publish
  const saver = useFetcher<typeof editorAction>();
  const saving = saver.state !== "idle";
  const reply = saver.data;
  const submit = (intent: "save" | "publish") => {
    if (hasCaseProblems) {
      setLocalError("Some test cases need attention (marked below); nothing was saved.");
      return;
    }
    setLocalError(null);
    saver.submit(
      { _csrf: csrf, intent, expression: doc.text, cases: JSON.stringify(stored.cases) },
      { method: "post", action: `/console/mappings/${mapping.slug}` },
    );
  };
  const expressionErrors = reply && !reply.ok ? reply.fieldErrors?.expression : undefined;
  const casesErrors = reply && !reply.ok ? reply.fieldErrors?.cases : undefined;

  const loadVersion = (v: VersionView) => {
    if (dirty && !window.confirm(`Replace the editor's unsaved changes with version ${v.version}?`)) return;
    setDoc((d) => docFromText(v.expression, d));
    setCases(caseDrafts(v.cases));
    setSelected(null);
  };

  const showAt = (position: number | null) => {
    const ta = textRef.current;
    if (!ta || position === null) return;
    ta.focus();
    const at = Math.max(0, Math.min(ta.value.length, position - 1));
    ta.setSelectionRange(at, Math.min(ta.value.length, at + 1));
  };

  const selectedEdge = selected ? edges.find((e) => e.target === selected) : undefined;
  const editing = loadedFrom
    ? loadedFrom.status === "draft"
      ? `draft version ${loadedFrom.version}`
      : `published version ${loadedFrom.version}${loadedFrom.active ? " (active)" : ""}`
    : "a new mapping (no versions yet)";

  return (
    <div className="mapping-studio">
      <h1>{mapping.name}</h1>
      <dl className="mf-summary">
        <dt>Slug</dt>
        <dd>
          <code>{mapping.slug}</code>
        </dd>
        <dt>Source</dt>
        <dd>
          {mapping.source.connector} / {mapping.source.object}
        </dd>
        <dt>Target</dt>
        <dd>
          {mapping.targetLabel} (<code>{mapping.target}</code>)
        </dd>
        <dt>Active version</dt>
        <dd data-testid="active-version">{mapping.activeVersion !== null ? `v${mapping.activeVersion}` : "none"}</dd>
        <dt>Latest version</dt>
        <dd>{mapping.latestVersion !== null ? `v${mapping.latestVersion}${mapping.hasDraft ? " (draft)" : ""}` : "none"}</dd>
        <dt>Used by</dt>
        <dd>{mapping.usedBy.length ? mapping.usedBy.join(", ") : "nothing yet"}</dd>
      </dl>

      <div className="mf-actionbar" role="group" aria-label="Draft">
        <span>
          Editing {editing}
          {dirty ? <span className="pill warn">unsaved changes</span> : null}
        </span>
        {canEdit ? (
          <span className="mf-actionbar-buttons">
            <button type="button" className="secondary" disabled={saving} onClick={() => submit("save")}>
              Save draft
            </button>
            <button type="button" className="primary" disabled={saving} onClick={() => submit("publish")}>
              Publish
            </button>
          </span>
        ) : (
          <span className="muted">
            Read only: changing mappings needs the {editorRoles.join(" or ")} role; you are signed in as {role}.
          </span>
        )}
      </div>
      {saving ? (
        <p className="muted" role="status">
          Saving…
        </p>
      ) : localError ? (
        <p className="alert error" role="alert">
          {localError}
        </p>
      ) : reply ? (
        <div className={`alert ${reply.ok ? "ok" : "error"}`} role={reply.ok ? "status" : "alert"}>
          <p>{reply.message}</p>
          {casesErrors ? (
            <ul>
              {casesErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      <section className="mf-panel" aria-labelledby={`${id}-graph`}>
        <h2 id={`${id}-graph`}>Fields</h2>
        {doc.view.kind === "text-only" ? (
          <p className="alert warn mf-text-only" role="status">
            This expression can only be edited as text: {doc.view.reason}
          </p>
        ) : (
          <p className="muted mf-help">
            {canEdit
              ? "Drag from a source field's handle to a target field to map it (a plain path). Click an edge or a target to edit its JSONata; Delete removes the selected edge."
              : "Click an edge or a target to see its JSONata."}
            {canEdit && hasInnerComments(doc.text)
              ? " Editing on the canvas rewrites the text: comments inside the object are dropped."
              : null}
          </p>
        )}
        {isGraph && needed.length ? (
          <p className="alert error mf-needed-summary" role="status">
            Required and not mapped: {needed.map((n) => n).join(", ")}
          </p>
        ) : null}
        <div className="mf-columns-head" aria-hidden="true">
          <span>
            Source fields{" "}
            <span className="muted">
              ({sources.length}, from {samples.length} sample input{samples.length === 1 ? "" : "s"})
            </span>
          </span>
          <span>
            Target fields <span className="muted">({mapping.targetLabel}; * required)</span>
          </span>
        </div>
        <MappingCanvas
          sources={sources}
          targets={targets}
          edges={drawn}
          readOnly={!graphEditable}
          stale={!isGraph}
          selected={selected}
          onSelect={setSelected}
          onConnect={onConnect}
          onDelete={onDelete}
        />
        {samples.length === 0 ? (
          <p className="muted">No sample input yet: add one under Test cases to see the source fields.</p>
        ) : null}
        {selected ? (
          <EdgeEditor
            key={selected}
            target={selected}
            current={selectedEdge?.expression ?? ""}
            editable={graphEditable}
            onApply={(expression) => onApplyEdge(selected, expression)}
            onRemove={() => onDelete(selected)}
            onClose={() => setSelected(null)}
          />
        ) : null}
      </section>

      <div className="mf-split">
        <section className="mf-panel" aria-labelledby={`${id}-text`}>
          <h2 id={`${id}-text`}>Expression</h2>
          <label htmlFor={`${id}-expression`}>Expression (JSONata)</label>
          <textarea
            id={`${id}-expression`}
            ref={textRef}
            className="mono mf-expression-text"
            rows={Math.min(40, Math.max(12, doc.text.split("\n").length + 1))}
            spellCheck={false}
            readOnly={!canEdit}
            value={doc.text}
            aria-invalid={expressionErrors ? true : undefined}
            aria-describedby={expressionErrors ? `${id}-expression-error` : undefined}
            onChange={(e) => {
              const value = e.target.value;
              setDoc((d) => docFromText(value, d));
            }}
          />
          {expressionErrors ? (
            <p className="field-error" id={`${id}-expression-error`}>
              {expressionErrors.join("; ")}
            </p>
          ) : null}
          <p className="field-hint">
            {isGraph ? `Drawn as a graph: ${edges.length} mapped field${edges.length === 1 ? "" : "s"}.` : "Text only."}
          </p>
        </section>
        <PreviewPanel
          cases={cases}
          sampleKey={sample?.key ?? null}
          onSample={setSampleKey}
          preview={preview}
          target={mapping.targetLabel}
          onShowAt={showAt}
        />
      </div>

      <CasesPanel
        cases={cases}
        editable={canEdit}
        problems={caseProblems}
        tests={tests}
        onCasesChange={setCases}
        onAdded={(c) => setSampleKey(c.key)}
        onRun={runTests}
      />

      <VersionsPanel slug={mapping.slug} versions={versions} canEdit={canEdit} diff={diff} onLoad={loadVersion} />
      <p className="muted">Times are UTC. Last published: {when(versions.find((v) => v.publishedAt)?.publishedAt ?? null)}.</p>
    </div>
  );
}
