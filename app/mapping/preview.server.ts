// Live preview in the editor: run a draft expression on a sample input with
// tight guards, and report output, validation errors or the JSONata error.
import { compileMapping, runMapping, MappingEvaluationError, MappingSyntaxError, type Guards } from "./engine";
import type { TargetId } from "./targets";

export const PREVIEW_GUARDS: Guards = { timeoutMs: 500, maxDepth: 200, maxSequence: 100_000 };

export type PreviewResult =
  | { kind: "output"; output: unknown; errors: Record<string, string[]> | null; ms: number }
  | { kind: "syntax-error"; message: string; line: number; column: number; position: number | null }
  | { kind: "evaluation-error"; message: string; code: string; position: number | null; ms: number };

export async function previewMapping(expression: string, input: unknown, target: TargetId | undefined): Promise<PreviewResult> {
  let compiled;
  try {
    compiled = compileMapping(expression, PREVIEW_GUARDS);
  } catch (err) {
    if (err instanceof MappingSyntaxError) {
      return {
        kind: "syntax-error",
        message: err.message,
        line: err.line,
        column: err.column,
        position: err.jsonata.position ?? null,
      };
    }
    throw err;
  }
  const started = performance.now();
  try {
    const { output, errors } = await runMapping(compiled, input, target);
    return { kind: "output", output, errors, ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    if (err instanceof MappingEvaluationError) {
      return {
        kind: "evaluation-error",
        message: err.message,
        code: err.jsonata.code,
        position: err.jsonata.position ?? null,
        ms: Math.round(performance.now() - started),
      };
    }
    throw err;
  }
}
