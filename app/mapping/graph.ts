// The mapping editor's two views of one expression: text, and a graph of
// edges (target field <- JSONata expression over source fields). An
// expression that is a top-level object constructor `{ "field": expr, ... }`
// (nested objects allowed) is drawn as a graph; anything else is text-only,
// never rewritten. Browser-safe: no server imports.
import jsonata from "jsonata";

export interface MappingEdge {
  /** Dotted target path, e.g. "start.dateTime". */
  target: string;
  /** The JSONata expression for this field, as written. */
  expression: string;
  /** Source paths the expression reads (for drawing edges from the left side). */
  sources: string[];
}

export type GraphView = { kind: "graph"; edges: MappingEdge[] } | { kind: "text-only"; reason: string };

type Piece = { text: string; start: number };

/** Split `text` at top-level occurrences of `sep`, skipping strings, names in backticks, comments and brackets. */
function splitTopLevel(text: string, sep: string): Piece[] | null {
  const out: Piece[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'" || ch === "`") {
      const end = skipQuoted(text, i, ch);
      if (end < 0) return null;
      i = end;
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return null;
      i = end + 1;
    } else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
      if (depth < 0) return null;
    } else if (depth === 0 && ch === sep) {
      out.push({ text: text.slice(start, i), start });
      start = i + 1;
    }
  }
  if (depth !== 0) return null;
  out.push({ text: text.slice(start), start });
  return out;
}

function skipQuoted(text: string, i: number, quote: string): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\" && quote !== "`") j++;
    else if (text[j] === quote) return j;
  }
  return -1;
}

const stripComments = (s: string) => s.replace(/\/\*[\s\S]*?\*\//g, " ");

/** The body between a top-level `{` and its matching `}`, when `text` is exactly one object constructor. */
function objectBody(text: string): string | null {
  const t = text.trim();
  if (!t.startsWith("{") || !t.endsWith("}")) return null;
  const inner = splitTopLevel(t.slice(1, -1), "\u0000");
  return inner ? t.slice(1, -1) : null;
}

function parsePairs(body: string, prefix: string, edges: MappingEdge[]): string | null {
  const pieces = splitTopLevel(body, ",");
  if (!pieces) return "unbalanced brackets or quotes";
  for (const piece of pieces) {
    const raw = stripComments(piece.text).trim();
    if (raw === "") continue;
    const m = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*:/.exec(raw);
    if (!m) return "an object key is not a plain string";
    const key = JSON.parse(m[1]!.startsWith("'") ? `"${m[1]!.slice(1, -1).replace(/"/g, '\\"')}"` : m[1]!) as string;
    const value = raw.slice(m[0].length).trim();
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = objectBody(value);
    if (nested !== null && !/^\{\s*\}$/.test(value)) {
      const problem = parsePairs(nested, path, edges);
      if (problem) return problem;
      continue;
    }
    edges.push({ target: path, expression: value, sources: sourcePaths(value) });
  }
  return null;
}

/** Read an expression as a graph, or say why it is text-only. */
export function expressionToGraph(expression: string): GraphView {
  try {
    jsonata(expression);
  } catch (err) {
    return { kind: "text-only", reason: `it does not compile: ${(err as { message?: string }).message ?? String(err)}` };
  }
  const body = objectBody(stripComments(expression));
  if (body === null) return { kind: "text-only", reason: 'it is not a single object constructor { "field": expression, … }' };
  const edges: MappingEdge[] = [];
  const problem = parsePairs(body, "", edges);
  if (problem) return { kind: "text-only", reason: problem };
  return { kind: "graph", edges };
}

type Tree = { [key: string]: Tree | string };

/** Write edges back as an object constructor, nesting dotted targets. */
export function graphToExpression(edges: MappingEdge[]): string {
  const root: Tree = {};
  for (const e of edges) {
    const keys = e.target.split(".");
    let node = root;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      node = typeof next === "object" ? next : (node[k] = {});
    }
    node[keys.at(-1)!] = e.expression.trim() || "undefined";
  }
  const render = (tree: Tree, indent: string): string => {
    const inner = indent + "  ";
    const lines = Object.entries(tree).map(([k, v]) => {
      const value = typeof v === "string" ? v.replace(/\n/g, `\n${inner}`) : render(v, inner);
      return `${inner}${JSON.stringify(k)}: ${value}`;
    });
    return lines.length ? `{\n${lines.join(",\n")}\n${indent}}` : "{}";
  };
  return render(root, "") + "\n";
}

interface AstNode {
  type?: string;
  value?: unknown;
  steps?: AstNode[];
  [key: string]: unknown;
}

/** Field paths an expression reads from its input (variables and function names excluded). */
export function sourcePaths(expression: string): string[] {
  let ast: AstNode;
  try {
    ast = jsonata(expression).ast() as AstNode;
  } catch {
    return [];
  }
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const n = node as AstNode;
    if (n.type === "path" && Array.isArray(n.steps) && n.steps.every((s) => s.type === "name")) {
      found.add(n.steps.map((s) => String(s.value)).join("."));
    } else if (n.type === "name") {
      found.add(String(n.value));
    }
    for (const [k, v] of Object.entries(n)) if (k !== "steps" || n.type !== "path") visit(v);
    if (n.type === "path" && Array.isArray(n.steps) && !n.steps.every((s) => s.type === "name")) visit(n.steps);
  };
  visit(ast);
  return [...found].sort();
}
