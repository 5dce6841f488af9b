// Resource route: run the editor's test cases against the draft expression
// (not saved), as `npm test` and the CLI run them (runCase).
import type { ActionFunctionArgs } from "@remix-run/node";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ValidationError } from "~/errors";
import { runCase } from "~/mapping/cases";
import { casesField, differences, targetField, text } from "~/components/mapping/forms.server";
import type { CaseRun, CasesAnswer } from "~/components/mapping/types";

const answer = (body: CasesAnswer, status = 200) => Response.json(body, { status, headers: { "Cache-Control": "no-store" } });

export async function action({ request, context }: ActionFunctionArgs) {
  await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  try {
    const target = targetField(form);
    const cases = casesField(form);
    const expression = text(form, "expression");
    const results: CaseRun[] = [];
    for (const c of cases) {
      const r = await runCase(expression, target, c);
      const hints =
        r.passed || r.output === undefined
          ? []
          : c.expectedErrors !== undefined
            ? differences(c.expectedErrors, r.errors ?? {})
            : r.errors
              ? Object.entries(r.errors).map(([field, messages]) => `${field}: ${messages.join("; ")}`)
              : differences(c.expected, r.output);
      results.push({ name: r.name, passed: r.passed, problem: r.problem, output: r.output, errors: r.errors ?? null, hints });
    }
    return answer({ kind: "results", results });
  } catch (err) {
    if (err instanceof ValidationError) {
      const detail = Object.values(err.fieldErrors).flat();
      return answer({ kind: "failed", message: detail.length ? `${err.message} ${detail.join("; ")}` : err.message }, 422);
    }
    throw err;
  }
}
