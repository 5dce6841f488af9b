// The mapping editor's model, shared by the page and the canvas (browser-safe).
// The text is the one source of truth: the graph is always derived from it
// (expressionToGraph), and a graph edit writes the text anew (graphToExpression)
// only while the text reads as a graph. Text-only expressions are never rewritten.
import jsonata from "jsonata";
import { expressionToGraph, graphToExpression, sourcePaths, type GraphView, type MappingEdge } from "~/mapping/graph";
import type { SourceField } from "~/mapping/infer";
import type { TargetField } from "~/mapping/targets";

export interface EditorDoc {
  text: string;
  view: GraphView;
  /** The edges last drawn from a graph view: kept on the canvas (read-only) while the text is text-only. */
  lastEdges: MappingEdge[];
}

export function docFromText(text: string, previous?: EditorDoc): EditorDoc {
  const view = expressionToGraph(text);
  return { text, view, lastEdges: view.kind === "graph" ? view.edges : (previous?.lastEdges ?? []) };
}

/** Comments (and blank lines) before the object: kept when the graph rewrites the text. */
export function leadingComments(text: string): string {
  const m = /^(?:\s*\/\*[\s\S]*?\*\/)+[ \t]*\n?/.exec(text);
  return m ? m[0].replace(/^\s+/, "").replace(/\s*$/, "\n") : "";
}

/** True when comments after the leading ones would be lost by a graph edit. */
export function hasInnerComments(text: string): boolean {
  return text.replace(/^(?:\s*\/\*[\s\S]*?\*\/)+/, "").includes("/*");
}

/** True when a line break of `text` lies inside a string literal (re-indenting would change the string). */
function breaksInsideStrings(text: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === "\\" && quote !== "`") i++;
      else if (ch === quote) quote = null;
      else if (ch === "\n") return true;
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
  }
  return false;
}

/**
 * A multi-line field expression as read from the text carries the indentation of
 * its place in the object (two spaces per level), and graphToExpression indents it
 * by that again: without this, every graph edit would shift such expressions right.
 * Continuation lines give back that indentation (never more than they have), so a
 * rewrite puts them where they were, the author's own hanging indents included.
 */
export function dedent(expression: string, depth: number): string {
  const lines = expression.split("\n");
  if (lines.length < 2 || breaksInsideStrings(expression)) return expression;
  const by = 2 * depth;
  return [lines[0], ...lines.slice(1).map((l) => l.slice(Math.min(by, /^[ \t]*/.exec(l)![0].length)))].join("\n");
}

/** Apply a graph edit. Returns the same doc when the current text is text-only (never rewritten). */
export function applyEdges(doc: EditorDoc, edges: MappingEdge[]): EditorDoc {
  if (doc.view.kind !== "graph") return doc;
  const text = graphToExpression(edges.map((e) => ({ ...e, expression: dedent(e.expression, e.target.split(".").length) })));
  return docFromText(leadingComments(doc.text) + text, doc);
}

const RESERVED = new Set(["and", "or", "in", "true", "false", "null", "function"]);

/** A source path as a plain JSONata path: `contact.email`, with backticks where a name needs them. */
export function plainPath(path: string): string {
  return path
    .split(".")
    .map((s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED.has(s) ? s : "`" + s.replace(/`/g, "") + "`"))
    .join(".");
}

export function edgeFor(sourcePath: string, target: string): MappingEdge {
  const expression = plainPath(sourcePath);
  return { target, expression, sources: sourcePaths(expression) };
}

/** Connecting a source to a target: creates that target's edge, or overwrites its expression. */
export function connect(edges: MappingEdge[], sourcePath: string, target: string): MappingEdge[] {
  const next = edgeFor(sourcePath, target);
  const at = edges.findIndex((e) => e.target === target);
  if (at < 0) return [...edges, next];
  return edges.map((e, i) => (i === at ? next : e));
}

export function setExpression(edges: MappingEdge[], target: string, expression: string): MappingEdge[] {
  const next = { target, expression, sources: sourcePaths(expression) };
  const at = edges.findIndex((e) => e.target === target);
  if (at < 0) return [...edges, next];
  return edges.map((e, i) => (i === at ? next : e));
}

export function removeEdge(edges: MappingEdge[], target: string): MappingEdge[] {
  return edges.filter((e) => e.target !== target);
}

/** Null when the expression compiles, else jsonata's message. */
export function compileProblem(expression: string): string | null {
  if (expression.trim() === "") return "the expression is empty";
  try {
    jsonata(expression);
    return null;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    return `${e.message ?? String(err)}${typeof e.position === "number" ? ` (character ${e.position})` : ""}`;
  }
}

// ------------------------------------------------------------------ canvas rows

export interface SourceRow {
  path: string;
  type: SourceField["type"] | "unknown";
  inArray: boolean;
  example?: unknown;
  /** Read by the expression but absent from every sample input. */
  missing: boolean;
}

export interface TargetRow extends TargetField {
  mapped: boolean;
  /** Required (and its parents are present), but nothing maps to it. */
  needed: boolean;
  /** Mapped, but not a field of the target. */
  unknown: boolean;
}

export interface CanvasEdge {
  id: string;
  /** Source row path, or null for the expression/constant node. */
  source: string | null;
  target: string;
  expression: string;
}

export const EXPRESSION_NODE = "expression";

/** Source rows: the inferred fields, plus plain paths a mapping reads that no sample has. */
export function sourceRows(fields: SourceField[], edges: MappingEdge[]): SourceRow[] {
  const rows: SourceRow[] = fields.map((f) => ({ ...f, missing: false }));
  const known = new Set(fields.map((f) => f.path));
  for (const e of edges) {
    const only = e.sources.length === 1 ? e.sources[0]! : null;
    if (only && !known.has(only) && e.expression.trim() === plainPath(only)) {
      known.add(only);
      rows.push({ path: only, type: "unknown", inArray: false, missing: true });
    }
  }
  return rows.sort((a, b) => a.path.localeCompare(b.path));
}

const isMapped = (path: string, edges: MappingEdge[]) =>
  edges.some((e) => e.target === path || e.target.startsWith(path + ".") || path.startsWith(e.target + "."));

/** Target rows with mapped / needed marks; `edges` null when the text is text-only (nothing is marked). */
export function targetRows(fields: TargetField[], edges: MappingEdge[] | null): TargetRow[] {
  const byPath = new Map(fields.map((f) => [f.path, f]));
  const rows: TargetRow[] = fields.map((f) => {
    const mapped = edges ? isMapped(f.path, edges) : false;
    const parts = f.path.split(".");
    const parentsPresent = parts.slice(0, -1).every((_, i) => {
      const parent = parts.slice(0, i + 1).join(".");
      return Boolean(byPath.get(parent)?.required) || (edges ? isMapped(parent, edges) : false);
    });
    return { ...f, mapped, needed: Boolean(edges) && f.required && !mapped && parentsPresent, unknown: false };
  });
  for (const e of edges ?? []) {
    if (byPath.has(e.target) || rows.some((r) => r.path === e.target)) continue;
    // Under a known field (e.g. a key of a record such as extendedProperties.private): allowed.
    const parts = e.target.split(".");
    const underKnown = parts.slice(0, -1).some((_, i) => byPath.has(parts.slice(0, i + 1).join(".")));
    const row: TargetRow = { path: e.target, type: "string", required: false, mapped: true, needed: false, unknown: !underKnown };
    // Drawn next to its nearest relatives (same parent object), else at the end.
    const parent = parts.slice(0, -1).join(".");
    let after = -1;
    if (parent) rows.forEach((r, i) => (r.path === parent || r.path.startsWith(parent + ".") ? (after = i) : undefined));
    rows.splice(after < 0 ? rows.length : after + 1, 0, row);
  }
  return rows;
}

/** One canvas edge per source a mapped target reads (or one from the expression node). */
export function canvasEdges(edges: MappingEdge[], sources: SourceRow[]): CanvasEdge[] {
  const known = new Set(sources.map((s) => s.path));
  const out: CanvasEdge[] = [];
  for (const e of edges) {
    const drawn = e.sources.filter((s) => known.has(s));
    if (drawn.length === 0)
      out.push({ id: `${EXPRESSION_NODE}->${e.target}`, source: null, target: e.target, expression: e.expression });
    for (const s of drawn) out.push({ id: `${s}->${e.target}`, source: s, target: e.target, expression: e.expression });
  }
  return out;
}

// ------------------------------------------------------------------ test cases in the editor

export interface CaseDraft {
  /** Stable key for React while names are edited. */
  key: string;
  name: string;
  description: string;
  inputText: string;
  expect: "output" | "errors";
  expectedText: string;
}

export interface StoredCase {
  name: string;
  description?: string;
  input?: unknown;
  expected?: unknown;
  expectedErrors?: Record<string, string[]>;
}

const pretty = (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2));

export function caseDrafts(cases: StoredCase[]): CaseDraft[] {
  return cases.map((c, i) => ({
    key: `${i}:${c.name}`,
    name: c.name,
    description: c.description ?? "",
    inputText: pretty(c.input),
    expect: c.expectedErrors !== undefined ? "errors" : "output",
    expectedText: pretty(c.expectedErrors !== undefined ? c.expectedErrors : c.expected),
  }));
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

export type CaseProblems = Record<string, string[]>;

/** The drafts as stored cases, or the problems per case key. */
export function storedCases(drafts: CaseDraft[]): { cases: StoredCase[]; problems: CaseProblems } {
  const problems: CaseProblems = {};
  const cases: StoredCase[] = [];
  const names = new Set<string>();
  for (const d of drafts) {
    const list: string[] = [];
    const name = d.name.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) list.push("The name must be letters, digits, dots, dashes or underscores.");
    else if (names.has(name)) list.push(`Another case is also named "${name}".`);
    names.add(name);
    const input = parseJson(d.inputText);
    if (!input.ok) list.push(`The sample input is not valid JSON: ${input.message}`);
    const expected = parseJson(d.expectedText);
    if (!expected.ok)
      list.push(`The expected ${d.expect === "errors" ? "errors are" : "output is"} not valid JSON: ${expected.message}`);
    if (list.length) {
      problems[d.key] = list;
      continue;
    }
    const c: StoredCase = { name, input: (input as { value: unknown }).value };
    if (d.description.trim()) c.description = d.description.trim();
    if (d.expect === "errors") c.expectedErrors = (expected as { value: unknown }).value as Record<string, string[]>;
    else c.expected = (expected as { value: unknown }).value;
    cases.push(c);
  }
  return { cases, problems };
}

/** The sample inputs that parse, for inferring source fields. */
export function sampleInputs(drafts: CaseDraft[]): unknown[] {
  const out: unknown[] = [];
  for (const d of drafts) {
    const p = parseJson(d.inputText);
    if (p.ok) out.push(p.value);
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

/** JSON with sorted keys: equal for equal values, whatever order the keys came in (jsonb reorders them). */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "undefined";
}
