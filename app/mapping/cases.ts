// Running a mapping's test cases: the same check in `npm test`, the CLI and the console.
import { compileMapping, runMapping, MappingEvaluationError, MappingSyntaxError } from "./engine";
import type { TargetId } from "./targets";

export interface CaseInput {
  name: string;
  input?: unknown;
  expected?: unknown;
  expectedErrors?: Record<string, string[]>;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  output?: unknown;
  errors?: Record<string, string[]> | null;
  /** Why it failed, in words. */
  problem?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

export async function runCase(expression: string, target: TargetId, c: CaseInput): Promise<CaseResult> {
  try {
    const { output, errors } = await runMapping(compileMapping(expression), c.input, target);
    if (c.expectedErrors !== undefined) {
      const passed = same(errors ?? {}, c.expectedErrors);
      return {
        name: c.name,
        passed,
        output,
        errors,
        problem: passed ? undefined : "the validation errors differ from expectedErrors",
      };
    }
    if (errors) return { name: c.name, passed: false, output, errors, problem: "the output is not valid for the target" };
    const passed = same(output, c.expected);
    return { name: c.name, passed, output, errors, problem: passed ? undefined : "the output differs from expected" };
  } catch (err) {
    if (err instanceof MappingSyntaxError || err instanceof MappingEvaluationError)
      return { name: c.name, passed: false, problem: err.message };
    throw err;
  }
}
