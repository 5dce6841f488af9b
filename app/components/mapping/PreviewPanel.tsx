// The live preview: the chosen sample input run through the text in the
// editor (debounced by the editor), with the output and its validation errors,
// or the syntax error with its line and column, or the evaluation error.
import { useId } from "react";
import type { CaseDraft } from "./model";
import type { PreviewAnswer } from "./types";

export function PreviewPanel({
  cases,
  sampleKey,
  onSample,
  preview,
  target,
  onShowAt,
}: {
  cases: CaseDraft[];
  sampleKey: string | null;
  onSample: (key: string) => void;
  preview: { answer: PreviewAnswer | null; running: boolean };
  target: string;
  onShowAt: (position: number | null) => void;
}) {
  const id = useId();
  const a = preview.answer;
  return (
    <section className="mf-panel mf-preview" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Preview</h2>
      {cases.length === 0 ? (
        <p className="muted">Add a sample input (under Test cases) to preview the mapping.</p>
      ) : (
        <>
          <label htmlFor={`${id}-sample`}>Sample input</label>
          <select id={`${id}-sample`} value={sampleKey ?? ""} onChange={(e) => onSample(e.target.value)}>
            {cases.map((c) => (
              <option key={c.key} value={c.key}>
                {c.name}
                {c.description ? ` — ${c.description}` : ""}
              </option>
            ))}
          </select>
          <p className="mf-preview-state muted" role="status" aria-live="polite">
            {preview.running ? "Running…" : a?.kind === "output" ? `Ran in ${a.ms} ms.` : a ? "" : "Waiting…"}
          </p>
          {a?.kind === "output" ? (
            <>
              {a.errors ? (
                <div className="alert error" role="alert" aria-label="Validation errors">
                  <p>Not valid for {target}:</p>
                  <ul>
                    {Object.entries(a.errors).map(([field, messages]) => (
                      <li key={field}>
                        <code>{field}</code> {messages.join("; ")}
                      </li>
                    ))}
                  </ul>
                </div>
              ) : (
                <p className="alert ok">Valid for {target}.</p>
              )}
              <pre className="mf-output" aria-label="Preview output" data-state={preview.running ? "stale" : "fresh"}>
                {a.output === undefined ? "(no output)" : JSON.stringify(a.output, null, 2)}
              </pre>
            </>
          ) : null}
          {a?.kind === "syntax-error" ? (
            <div className="alert error" role="alert" aria-label="Syntax error">
              <p>
                Syntax error at line {a.line}, column {a.column}
              </p>
              <p className="mono">{a.message}</p>
              {a.position !== null ? (
                <button type="button" className="link-button" onClick={() => onShowAt(a.position)}>
                  Show in the text
                </button>
              ) : null}
            </div>
          ) : null}
          {a?.kind === "evaluation-error" ? (
            <div className="alert error" role="alert" aria-label="Evaluation error">
              <p>{a.message}</p>
              <p className="muted">
                Code {a.code}
                {a.position !== null ? `, at character ${a.position}` : ""}; stopped after {a.ms} ms.
              </p>
            </div>
          ) : null}
          {a?.kind === "input-error" || a?.kind === "failed" ? (
            <p className="alert error" role="alert">
              {a.message}
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
