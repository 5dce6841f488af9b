// The console's core-field form: one input per core field, grouped, prefilled
// from a version of the couple, which it sends back (`version`) so a change
// someone else saved in the meantime is a conflict instead of being overwritten.
//
// While the form is untouched it follows the page's (live) data. Once the user
// edits, it stays on the version they started from; saving then either succeeds
// or comes back with a conflict, which re-bases the form on the fresh values
// while keeping the user's own edits, and marks what the other person changed.
import { useEffect, useRef, useState, type FormEvent, type InputHTMLAttributes } from "react";
import { Form, useNavigation } from "@remix-run/react";
import { CORE_FIELDS, CORE_FIELD_NAMES, type CoreFieldName, type FieldDefinition, type FieldKind } from "~/core-fields/schema";
import { CsrfField } from "./CsrfField";
import { showValue } from "./CoreFieldsView";

type Change = { old: unknown; new: unknown };

/** What the couple page's action answers (also the shape of `useActionData`). */
export type CoreFieldsEditResult =
  | { status: "saved"; version: number; changed: string[] }
  | { status: "unchanged"; version: number }
  | {
      status: "invalid";
      message: string;
      /** The version the form was on: it stays there, with the submitted values. */
      version: number;
      /** That version's values, as input text. */
      base: Record<string, string>;
      values: Record<string, string>;
      /** Fields the user had changed (relative to `version`). */
      changed: string[];
      fieldErrors: Record<string, string[]>;
    }
  | {
      status: "conflict";
      message: string;
      /** The current version and its values: the form re-bases on these. */
      version: number;
      fields: Record<string, unknown>;
      /** The user's own edits (submitted text), kept in the re-based form. */
      mine: Record<string, string>;
      /** What others changed between the form's version and `version`. */
      theirs: Record<string, Change>;
      by: string[];
    }
  | { status: "forbidden" | "bad_request"; message: string };

export interface CoreFieldsEditorProps {
  /** The page's current data (kept fresh by live updates). */
  couple: { version: number; fields: Record<string, unknown> };
  result: CoreFieldsEditResult | undefined;
}

const GROUPS: Record<FieldDefinition["group"], string> = {
  wedding: "Wedding",
  venue: "Venue",
  guests: "Guests",
  people: "People",
  style: "Style and budget",
};

const INPUT_TYPE: Record<FieldKind, string> = {
  date: "date",
  time: "time",
  timezone: "text",
  text: "text",
  email: "email",
  phone: "tel",
  integer: "number",
  money: "number",
};

const HINTS: Partial<Record<FieldKind, string>> = {
  timezone: "An IANA time zone, like Europe/London.",
  phone: "International format, like +447700900123.",
};

/** Field groups in schema order. */
const GROUPED = CORE_FIELD_NAMES.reduce<[FieldDefinition["group"], CoreFieldName[]][]>((acc, name) => {
  const group = CORE_FIELDS[name].group;
  const entry = acc.find(([g]) => g === group);
  if (entry) entry[1].push(name);
  else acc.push([group, [name]]);
  return acc;
}, []);

/** A stored value as the text of its input ("" when unset). */
export function toInputValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function asInputs(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(CORE_FIELD_NAMES.map((name) => [name, toInputValue(fields[name])]));
}

interface Draft {
  /** Bumped by "Discard my edits", so every input is recreated. */
  generation: number;
  /** The version the form is based on (sent back as `version`). */
  version: number;
  /** That version's values, as input text. */
  base: Record<string, string>;
  /** The inputs' initial values: `base`, or the user's kept edits. */
  values: Record<string, string>;
  /** Fields holding unsaved edits carried over from a submission (validation failure or conflict). */
  pending: string[];
  errors: Record<string, string[]>;
  theirs: Record<string, Change>;
}

function draftFromCouple(couple: CoreFieldsEditorProps["couple"], generation: number): Draft {
  const base = asInputs(couple.fields);
  return { generation, version: couple.version, base, values: base, pending: [], errors: {}, theirs: {} };
}

/** The draft a new action result leads to; null when the form should stay as it is. */
function draftFromResult(result: CoreFieldsEditResult, couple: CoreFieldsEditorProps["couple"], prev: Draft): Draft | null {
  switch (result.status) {
    case "saved":
    case "unchanged":
      return draftFromCouple(couple, prev.generation);
    case "invalid":
      return {
        generation: prev.generation,
        version: result.version,
        base: result.base,
        values: { ...result.base, ...result.values },
        pending: result.changed,
        errors: result.fieldErrors,
        theirs: {},
      };
    case "conflict": {
      const base = asInputs(result.fields);
      return {
        generation: prev.generation,
        version: result.version,
        base,
        values: { ...base, ...result.mine },
        pending: Object.keys(result.mine),
        errors: {},
        theirs: result.theirs,
      };
    }
    default:
      return null;
  }
}

/** True when any core-field input differs from the value it was rendered with. */
function hasTypedEdits(form: HTMLFormElement): boolean {
  return Array.from(form.elements).some(
    (el) => el instanceof HTMLInputElement && el.name in CORE_FIELDS && el.value !== el.defaultValue,
  );
}

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function CoreFieldsEditor({ couple, result }: CoreFieldsEditorProps) {
  const navigation = useNavigation();
  const saving = navigation.state === "submitting" && navigation.formData?.has("version") === true;
  const [draft, setDraft] = useState<Draft>(() => {
    const initial = draftFromCouple(couple, 0);
    return (result && draftFromResult(result, couple, initial)) ?? initial;
  });
  const [typed, setTyped] = useState(false);
  const [seen, setSeen] = useState({ result, version: couple.version });
  const summaryRef = useRef<HTMLDivElement>(null);

  const hasEdits = typed || draft.pending.length > 0;

  // Follow new results and new data (adjusting state while rendering, not in an effect).
  if (seen.result !== result || seen.version !== couple.version) {
    setSeen({ result, version: couple.version });
    const next = seen.result !== result && result ? draftFromResult(result, couple, draft) : null;
    if (next) {
      setDraft(next);
      setTyped(false);
    } else if (!hasEdits && couple.version !== draft.version) {
      // Untouched form: show what is current now.
      setDraft(draftFromCouple(couple, draft.generation));
    }
  }

  // After a refused save, move focus to the explanation.
  useEffect(() => {
    if (result && result.status !== "saved" && result.status !== "unchanged") summaryRef.current?.focus();
  }, [result]);

  const behind = couple.version !== draft.version;
  const current = asInputs(couple.fields);
  const discard = () => {
    setDraft(draftFromCouple(couple, draft.generation + 1));
    setTyped(false);
  };
  const onChange = (e: FormEvent<HTMLFormElement>) => setTyped(hasTypedEdits(e.currentTarget));

  const errorCount = Object.keys(draft.errors).length;

  return (
    <section className="editor" aria-labelledby="edit-core-fields">
      <h2 id="edit-core-fields">Edit fields</h2>

      {result?.status === "saved" ? (
        <p className="alert ok" role="status">
          Saved version {result.version}.
        </p>
      ) : result?.status === "unchanged" ? (
        <p className="alert ok" role="status">
          Nothing changed.
        </p>
      ) : result ? (
        <div className="alert error" role="alert" tabIndex={-1} ref={summaryRef}>
          <p>{result.message}</p>
          {result.status === "conflict" && Object.keys(result.theirs).length ? (
            <>
              <p>
                Changed by {result.by.join(", ") || "someone else"}:{" "}
                {Object.entries(result.theirs)
                  .map(([name, d]) => `${labelOf(name)} ${showValue(d.old)} → ${showValue(d.new)}`)
                  .join("; ")}
                .
              </p>
              {Object.keys(result.mine).length ? (
                <p>Your edits are kept in the form below; saving applies them to version {result.version}.</p>
              ) : null}
            </>
          ) : null}
          {result.status === "invalid" && errorCount ? (
            <ul>
              {Object.entries(draft.errors).map(([name, messages]) => (
                <li key={name}>
                  <a href={`#core-${name}`}>
                    {labelOf(name)}: {messages.join("; ")}
                  </a>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      {behind ? (
        <div className="alert warn">
          <p>
            Someone else saved version {couple.version} while you were editing version {draft.version}. Your edits are kept;
            saving will show you their change first.
          </p>
          <button type="button" className="secondary" onClick={discard}>
            Discard my edits and load version {couple.version}
          </button>
        </div>
      ) : null}

      <Form method="post" noValidate autoComplete="off" onChange={onChange}>
        <CsrfField />
        <input type="hidden" name="version" value={draft.version} />
        <p className="muted">Editing version {draft.version}. Leave a field empty to clear it.</p>
        {GROUPED.map(([group, names]) => (
          <fieldset key={group} className="field-group">
            <legend>{GROUPS[group]}</legend>
            {names.map((name) => {
              const def: FieldDefinition = CORE_FIELDS[name];
              const id = `core-${name}`;
              const errors = draft.errors[name];
              const theirs = draft.theirs[name];
              // Changed by someone else after this form's version (known live, before saving).
              const liveChange = behind && current[name] !== draft.base[name] ? current[name] : undefined;
              const mineToo = draft.pending.includes(name);
              const hint = HINTS[def.kind];
              const describedBy = [
                hint ? `${id}-hint` : null,
                theirs || liveChange !== undefined ? `${id}-note` : null,
                errors ? `${id}-error` : null,
              ].filter(Boolean);
              const value = draft.values[name] ?? "";
              return (
                <div key={name} className={`field${theirs || liveChange !== undefined ? " changed" : ""}`}>
                  <label htmlFor={id}>{def.label}</label>
                  <input
                    key={`${draft.generation}:${value}`}
                    id={id}
                    name={name}
                    type={INPUT_TYPE[def.kind]}
                    defaultValue={value}
                    aria-invalid={errors ? true : undefined}
                    aria-describedby={describedBy.length ? describedBy.join(" ") : undefined}
                    {...extraAttributes(def.kind)}
                  />
                  {hint ? (
                    <p id={`${id}-hint`} className="field-hint">
                      {hint}
                    </p>
                  ) : null}
                  {theirs ? (
                    <p id={`${id}-note`} className="field-note">
                      {mineToo
                        ? `Someone else changed this to ${showValue(theirs.new)} (was ${showValue(theirs.old)}); your value is kept. Save to keep yours.`
                        : `Changed by someone else: ${showValue(theirs.old)} → ${showValue(theirs.new)}.`}
                    </p>
                  ) : liveChange !== undefined ? (
                    <p id={`${id}-note`} className="field-note">
                      Now {showValue(liveChange || null)} in version {couple.version} (changed by someone else while you were
                      editing).
                    </p>
                  ) : null}
                  {errors ? (
                    <p id={`${id}-error`} className="field-error">
                      {errors.map(sentence).join(" ")}
                    </p>
                  ) : null}
                </div>
              );
            })}
          </fieldset>
        ))}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? "Saving…" : "Save changes"}
          </button>
          {hasEdits && !behind ? (
            <button type="button" className="secondary" onClick={discard}>
              Discard my edits
            </button>
          ) : null}
        </div>
      </Form>
    </section>
  );
}

function labelOf(name: string): string {
  return name in CORE_FIELDS ? CORE_FIELDS[name as CoreFieldName].label : name;
}

function extraAttributes(kind: FieldKind): InputHTMLAttributes<HTMLInputElement> {
  switch (kind) {
    case "integer":
      return { step: 1, min: 0, inputMode: "numeric" };
    case "money":
      return { step: "0.01", min: 0, inputMode: "decimal" };
    case "timezone":
      return { autoCapitalize: "off", spellCheck: false };
    default:
      return {};
  }
}
