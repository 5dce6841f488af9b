// The one mapping engine that imports, webhooks and previews use. It is
// JSONata, unchanged: for any expression and input it returns what `jsonata`
// returns, or throws the same error. It only adds:
//  - a compile cache (one compile per expression and guard settings),
//  - guards against runaway expressions (JSONata's own `timeout`, `stack` and
//    `sequence` options: errors D1012, D1011, D2015),
//  - the wedding functions (functions.ts),
//  - validation of the output against a target schema, with errors per field.
import jsonata from "jsonata";
import type { z } from "zod";
import { WEDDING_FUNCTIONS } from "./functions";
import { TARGETS, type TargetId } from "./targets";

export interface Guards {
  timeoutMs: number;
  maxDepth: number;
  maxSequence: number;
}

export const DEFAULT_GUARDS: Guards = { timeoutMs: 1000, maxDepth: 300, maxSequence: 1_000_000 };

/** A JSONata error as jsonata throws it (code, position, token, message). */
export interface JsonataError {
  code: string;
  position?: number;
  token?: string;
  message: string;
}

export function isJsonataError(err: unknown): err is JsonataError {
  return (
    typeof err === "object" &&
    err !== null &&
    "code" in err &&
    "message" in err &&
    typeof (err as { code: unknown }).code === "string"
  );
}

export class MappingSyntaxError extends Error {
  constructor(
    readonly jsonata: JsonataError,
    readonly line: number,
    readonly column: number,
  ) {
    super(`Syntax error at line ${line}, column ${column} (character ${jsonata.position ?? "?"}): ${jsonata.message}`);
    this.name = "MappingSyntaxError";
  }
}

export class MappingEvaluationError extends Error {
  constructor(readonly jsonata: JsonataError) {
    super(describeEvaluationError(jsonata));
    this.name = "MappingEvaluationError";
  }
}

function describeEvaluationError(e: JsonataError): string {
  if (e.code === "D1012") return `The mapping ran longer than its time limit and was stopped (${e.message}).`;
  if (e.code === "D1011") return `The mapping recursed too deeply and was stopped (${e.message}).`;
  if (e.code === "D2015") return `The mapping built a sequence larger than allowed and was stopped (${e.message}).`;
  return `Evaluation error ${e.code}${e.position !== undefined ? ` at character ${e.position}` : ""}: ${e.message}`;
}

export interface CompiledMapping {
  expression: string;
  /** Exactly jsonata's evaluate (with the guards); throws jsonata's error objects. */
  evaluateRaw(input: unknown): Promise<unknown>;
}

const cache = new Map<string, CompiledMapping>();
const CACHE_LIMIT = 500;

/** Line and column (1-based) of a character position in the expression. */
export function lineAndColumn(expression: string, position: number): { line: number; column: number } {
  const before = expression.slice(0, Math.max(0, position - 1));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Compile (or fetch from the cache). Throws MappingSyntaxError with the position. */
export function compileMapping(expression: string, guards: Guards = DEFAULT_GUARDS): CompiledMapping {
  const key = `${guards.timeoutMs}:${guards.maxDepth}:${guards.maxSequence}\u0000${expression}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let expr: jsonata.Expression;
  try {
    expr = jsonata(expression, { timeout: guards.timeoutMs, stack: guards.maxDepth, sequence: guards.maxSequence });
  } catch (err) {
    if (isJsonataError(err)) {
      const { line, column } = lineAndColumn(expression, err.position ?? 0);
      throw new MappingSyntaxError(err, line, column);
    }
    throw err;
  }
  for (const [name, [fn, signature]] of Object.entries(WEDDING_FUNCTIONS)) {
    expr.registerFunction(name, fn as (...args: unknown[]) => unknown, signature);
  }
  const compiled: CompiledMapping = { expression, evaluateRaw: (input) => expr.evaluate(input) as Promise<unknown> };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

export type FieldErrors = Record<string, string[]>;

export interface MappingResult {
  output: unknown;
  /** Null when the output is valid for the target (or no target was given). */
  errors: FieldErrors | null;
}

/** Evaluate and validate. Evaluation errors are thrown as MappingEvaluationError. */
export async function runMapping(compiled: CompiledMapping, input: unknown, target?: TargetId): Promise<MappingResult> {
  let output: unknown;
  try {
    output = await compiled.evaluateRaw(input);
  } catch (err) {
    if (isJsonataError(err)) throw new MappingEvaluationError(err);
    throw err;
  }
  // JSONata sequences are arrays with extra flags; hand back plain JSON.
  output = output === undefined ? undefined : JSON.parse(JSON.stringify(output));
  return { output, errors: target ? validateOutput(TARGETS[target].schema, output) : null };
}

export function validateOutput(schema: z.ZodType, output: unknown): FieldErrors | null {
  if (output === undefined) return { _: ["the mapping produced no output"] };
  const parsed = schema.safeParse(output);
  if (parsed.success) return null;
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) (errors[[...issue.path, key].join(".")] ??= []).push("is not a field of this target");
      continue;
    }
    const path = issue.path.join(".") || "_";
    const missing =
      (issue.code === "invalid_type" || issue.code === "invalid_union") && valueAt(output, issue.path) === undefined;
    (errors[path] ??= []).push(missing ? "is required but the mapping produced nothing for it" : issue.message);
  }
  return errors;
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
