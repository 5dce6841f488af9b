// Server helpers for the mapping studio routes: who may change mappings, reading
// the editor's form fields, and turning domain errors into answers the page shows.
import { data, type AppLoadContext } from "@remix-run/node";
import { requireStaff, type StaffRole } from "~/auth/guards.server";
import type { User } from "~/auth/users.server";
import type { Actor } from "~/audit/audit.server";
import { ConflictError, NotFoundError, ValidationError } from "~/errors";
import { mappingCaseSchema, type MappingCase } from "~/mapping/files.server";
import { isTargetId, type TargetId } from "~/mapping/targets";

/** Roles that may create, save, publish and activate mappings; ops may look and preview. */
export const MAPPING_EDITORS: StaffRole[] = ["admin", "integration"];

export const actorOf = (user: User): Actor => ({ type: "user", id: user.id, label: user.email });

export interface ActionReply {
  ok: boolean;
  message: string;
  fieldErrors?: Record<string, string[]>;
  /** What the action did, for the page to react (e.g. the version published). */
  intent?: string;
  version?: number;
}

export const reply = (body: ActionReply, status = 200) => data(body, { status });

/** The signed-in editor, or the 403 answer the page shows next to its buttons. */
export async function requireEditor(
  request: Request,
  context: AppLoadContext,
): Promise<{ user: User; denied?: undefined } | { user?: undefined; denied: ReturnType<typeof reply> }> {
  try {
    return { user: await requireStaff(request, context, MAPPING_EDITORS) };
  } catch (err) {
    if (err instanceof Response && err.status === 403) return { denied: reply({ ok: false, message: await err.text() }, 403) };
    throw err;
  }
}

/** Domain errors as answers (422 with fields, 409, 404); anything else is rethrown. */
export function errorReply(err: unknown, intent?: string) {
  if (err instanceof ValidationError)
    return reply({ ok: false, intent, message: err.message, fieldErrors: err.fieldErrors }, 422);
  if (err instanceof ConflictError) return reply({ ok: false, intent, message: err.message }, 409);
  if (err instanceof NotFoundError) return reply({ ok: false, intent, message: err.message }, 404);
  throw err;
}

export function text(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === "string" ? v : "";
}

export function targetField(form: FormData): TargetId {
  const t = text(form, "target");
  if (!isTargetId(t))
    throw new ValidationError("Unknown target", { target: ["must be one of the targets in app/mapping/targets.ts"] });
  return t;
}

const CASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The editor's test cases (a JSON array), checked as the mapping files check them. */
export function casesField(form: FormData): MappingCase[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text(form, "cases") || "[]");
  } catch {
    throw new ValidationError("The test cases could not be read", { cases: ["are not valid JSON"] });
  }
  if (!Array.isArray(raw)) throw new ValidationError("The test cases could not be read", { cases: ["must be a list"] });
  const problems: string[] = [];
  const names = new Set<string>();
  const cases: MappingCase[] = [];
  raw.forEach((c: unknown, i) => {
    const name =
      typeof c === "object" && c !== null && typeof (c as { name?: unknown }).name === "string"
        ? (c as { name: string }).name
        : "";
    const label = name ? `case "${name}"` : `case ${i + 1}`;
    if (!CASE_NAME.test(name)) problems.push(`${label}: the name must be letters, digits, dots, dashes or underscores`);
    else if (names.has(name)) problems.push(`${label}: another case has the same name`);
    names.add(name);
    const parsed = mappingCaseSchema.safeParse(c);
    if (!parsed.success) {
      problems.push(`${label}: ${parsed.error.issues.map((x) => x.message).join("; ")}`);
      return;
    }
    cases.push({ ...parsed.data, name });
  });
  if (problems.length) throw new ValidationError("Some test cases need attention.", { cases: problems });
  return cases;
}

/** Where an output differs from the expected one, field by field (for the test-case results). */
export function differences(expected: unknown, output: unknown, path = ""): string[] {
  const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(expected) && isObj(output)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(output)])].sort();
    return keys.flatMap((k) => differences(expected[k], output[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(expected) === JSON.stringify(output)) return [];
  return [`${path || "(output)"}: expected ${show(expected)}, got ${show(output)}`];
}
