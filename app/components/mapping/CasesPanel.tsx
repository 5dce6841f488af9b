// Test cases in the editor: each a sample input (which also feeds the source
// fields and the preview) and the expected output or validation errors.
import { useId, useState } from "react";
import { parseJson, type CaseDraft, type CaseProblems } from "./model";
import type { CaseRun, CasesAnswer } from "./types";

export function uniqueCaseName(cases: CaseDraft[], stem: string): string {
  const names = new Set(cases.map((c) => c.name));
  for (let i = cases.length + 1; ; i++) if (!names.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

function CaseEditor({
  draft,
  editable,
  problems,
  run,
  open,
  onChange,
  onRemove,
}: {
  draft: CaseDraft;
  editable: boolean;
  problems: string[] | undefined;
  run: CaseRun | undefined;
  open: boolean;
  onChange: (next: CaseDraft) => void;
  onRemove: () => void;
}) {
  const id = useId();
  const set = (patch: Partial<CaseDraft>) => onChange({ ...draft, ...patch });
  return (
    <details className="mf-case" open={open || Boolean(problems)}>
      <summary>
        <strong>{draft.name || "(unnamed)"}</strong>
        {draft.description ? <span className="muted"> — {draft.description}</span> : null}
        {run ? <span className={`pill ${run.passed ? "ok" : "bad"}`}>{run.passed ? "passed" : "failed"}</span> : null}
        {problems ? <span className="pill bad">needs attention</span> : null}
      </summary>
      <fieldset className="mf-case-fields" aria-label={`Case ${draft.name}`} disabled={!editable}>
        {problems ? (
          <ul className="field-error">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : null}
        <div className="mf-case-meta">
          <div>
            <label htmlFor={`${id}-name`}>Case name</label>
            <input id={`${id}-name`} type="text" value={draft.name} onChange={(e) => set({ name: e.target.value })} />
          </div>
          <div>
            <label htmlFor={`${id}-desc`}>Description</label>
            <input
              id={`${id}-desc`}
              type="text"
              value={draft.description}
              onChange={(e) => set({ description: e.target.value })}
            />
          </div>
          <div>
            <label htmlFor={`${id}-expect`}>Expect</label>
            <select
              id={`${id}-expect`}
              value={draft.expect}
              onChange={(e) => set({ expect: e.target.value as CaseDraft["expect"] })}
            >
              <option value="output">this output</option>
              <option value="errors">these validation errors</option>
            </select>
          </div>
        </div>
        <div className="mf-case-json">
          <div>
            <label htmlFor={`${id}-input`}>Sample input (JSON)</label>
            <textarea
              id={`${id}-input`}
              className="mono"
              rows={10}
              spellCheck={false}
              value={draft.inputText}
              onChange={(e) => set({ inputText: e.target.value })}
            />
          </div>
          <div>
            <label htmlFor={`${id}-expected`}>
              {draft.expect === "errors" ? "Expected errors (JSON)" : "Expected output (JSON)"}
            </label>
            <textarea
              id={`${id}-expected`}
              className="mono"
              rows={10}
              spellCheck={false}
              value={draft.expectedText}
              onChange={(e) => set({ expectedText: e.target.value })}
            />
          </div>
        </div>
        {editable ? (
          <div className="form-actions">
            {run && !run.passed && run.output !== undefined ? (
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  set(
                    run.errors
                      ? { expect: "errors", expectedText: JSON.stringify(run.errors, null, 2) }
                      : { expect: "output", expectedText: JSON.stringify(run.output, null, 2) },
                  )
                }
              >
                Use this run as expected
              </button>
            ) : null}
            <button type="button" className="link-button" onClick={onRemove}>
              Remove case
            </button>
          </div>
        ) : null}
      </fieldset>
    </details>
  );
}

export function CasesPanel({
  cases,
  editable,
  problems,
  tests,
  onCasesChange,
  onAdded,
  onRun,
}: {
  cases: CaseDraft[];
  editable: boolean;
  problems: CaseProblems;
  tests: { running: boolean; answer: CasesAnswer | null };
  onCasesChange: (next: CaseDraft[]) => void;
  onAdded: (added: CaseDraft) => void;
  onRun: () => void;
}) {
  const id = useId();
  const [sample, setSample] = useState("");
  const [sampleError, setSampleError] = useState<string | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const results = tests.answer?.kind === "results" ? tests.answer.results : [];
  const runOf = (name: string) => results.find((r) => r.name === name);
  const passed = results.filter((r) => r.passed).length;

  const add = () => {
    const parsed = parseJson(sample);
    if (!parsed.ok) {
      setSampleError(`This is not valid JSON: ${parsed.message}`);
      return;
    }
    const added: CaseDraft = {
      key: `new:${Date.now()}:${cases.length}`,
      name: uniqueCaseName(cases, "sample"),
      description: "",
      inputText: JSON.stringify(parsed.value, null, 2),
      expect: "output",
      expectedText: "{}",
    };
    onCasesChange([...cases, added]);
    onAdded(added);
    setOpened(added.key);
    setSample("");
    setSampleError(null);
  };

  return (
    <section className="mf-panel" aria-labelledby={`${id}-title`}>
      <div className="mf-panel-head">
        <h2 id={`${id}-title`}>Test cases</h2>
        <button type="button" className="secondary" onClick={onRun} disabled={tests.running || cases.length === 0}>
          {tests.running ? "Running…" : "Run test cases"}
        </button>
      </div>
      <p className="muted">
        Each case is a sample input (it feeds the source fields and the preview) and what the mapping must produce. They run here
        against the text in the editor, and in <code>npm test</code> once exported.
      </p>
      {tests.answer?.kind === "failed" ? (
        <p className="alert error" role="alert">
          {tests.answer.message}
        </p>
      ) : null}
      {tests.answer?.kind === "results" ? (
        <div role="status" aria-label="Test results">
          <p className={`alert ${passed === results.length ? "ok" : "error"}`}>
            {passed} of {results.length} {results.length === 1 ? "case" : "cases"} passed.
          </p>
          <table className="mf-results">
            <thead>
              <tr>
                <th>Case</th>
                <th>Result</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.name} className={r.passed ? "pass" : "fail"}>
                  <td>
                    <code>{r.name}</code>
                  </td>
                  <td>{r.passed ? "passed" : "failed"}</td>
                  <td>
                    {r.problem ? <p className="mf-problem">{r.problem}</p> : null}
                    {r.hints.length ? (
                      <ul className="mf-hints">
                        {r.hints.map((h) => (
                          <li key={h}>
                            <code>{h}</code>
                          </li>
                        ))}
                      </ul>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {cases.length === 0 ? <p className="muted">No test cases yet: add a sample input below to see the source fields.</p> : null}
      {cases.map((c) => (
        <CaseEditor
          key={c.key}
          draft={c}
          editable={editable}
          problems={problems[c.key]}
          run={runOf(c.name)}
          open={opened === c.key}
          onChange={(next) => onCasesChange(cases.map((x) => (x.key === c.key ? next : x)))}
          onRemove={() => onCasesChange(cases.filter((x) => x.key !== c.key))}
        />
      ))}
      {editable ? (
        <div className="mf-add-sample">
          <label htmlFor={`${id}-sample`}>New sample input (JSON)</label>
          <textarea
            id={`${id}-sample`}
            className="mono"
            rows={6}
            spellCheck={false}
            value={sample}
            placeholder='{ "id": "123", "firstName": "Ana", "email": "ana@example.com" }'
            aria-invalid={sampleError ? true : undefined}
            aria-describedby={sampleError ? `${id}-sample-error` : undefined}
            onChange={(e) => setSample(e.target.value)}
          />
          {sampleError ? (
            <p className="field-error" id={`${id}-sample-error`}>
              {sampleError}
            </p>
          ) : null}
          <button type="button" className="secondary" onClick={add} disabled={sample.trim() === ""}>
            Add sample input
          </button>
        </div>
      ) : null}
    </section>
  );
}
