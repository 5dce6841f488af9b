// The selected target's JSONata: typing applies it to the graph (and so to the
// text) as soon as it compiles; until then the text keeps the last good one.
import { useId, useState } from "react";

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

export function EdgeEditor({
  target,
  current,
  editable,
  onApply,
  onRemove,
  onClose,
}: {
  target: string;
  /** The target's expression in the text now ("" when unmapped). */
  current: string;
  editable: boolean;
  /** Applies the expression; returns why it could not, or null. */
  onApply: (expression: string) => string | null;
  onRemove: () => void;
  onClose: () => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState(current);
  const [problem, setProblem] = useState<string | null>(null);
  const [seen, setSeen] = useState(current);
  // The text changed under us (typed in the expression box, or a new connection): follow it,
  // unless it only differs from what is being typed here by layout.
  if (seen !== current) {
    setSeen(current);
    if (norm(current) !== norm(draft)) {
      setDraft(current);
      setProblem(null);
    }
  }

  return (
    <section className="mf-edge-editor" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        Mapping for <code>{target}</code>
      </h3>
      <label htmlFor={`${id}-expr`}>JSONata for {target}</label>
      <textarea
        id={`${id}-expr`}
        className="mono"
        rows={Math.min(8, Math.max(2, draft.split("\n").length))}
        value={draft}
        readOnly={!editable}
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-hint`}
        placeholder={current === "" ? "A path such as contact.email, or any JSONata" : undefined}
        onChange={(e) => {
          setDraft(e.target.value);
          setProblem(onApply(e.target.value));
        }}
      />
      <p id={`${id}-hint`} className={problem ? "field-error" : "field-hint"}>
        {!editable
          ? "Read only."
          : problem
            ? `Not applied yet: ${problem}`
            : current === ""
              ? "Not mapped: type an expression, or connect a source field on the canvas."
              : "Applied to the expression."}
      </p>
      <div className="form-actions">
        {editable && current !== "" ? (
          <button type="button" className="secondary" onClick={onRemove}>
            Remove mapping
          </button>
        ) : null}
        <button type="button" className="link-button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}
