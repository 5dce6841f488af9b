// Resource route: the editor's live preview. Runs the draft expression (not
// saved) on a sample input with the preview guards; any staff member may preview.
import type { ActionFunctionArgs } from "@remix-run/node";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { ValidationError } from "~/errors";
import { previewMapping } from "~/mapping/preview.server";
import { targetField, text } from "~/components/mapping/forms.server";
import type { PreviewAnswer } from "~/components/mapping/types";

const answer = (body: PreviewAnswer, status = 200) => Response.json(body, { status, headers: { "Cache-Control": "no-store" } });

export async function action({ request, context }: ActionFunctionArgs) {
  await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  let target;
  try {
    target = targetField(form);
  } catch (err) {
    if (err instanceof ValidationError)
      return answer({ kind: "failed", message: err.fieldErrors.target?.join("; ") ?? err.message }, 422);
    throw err;
  }
  let input: unknown;
  try {
    input = JSON.parse(text(form, "input"));
  } catch (err) {
    return answer({ kind: "input-error", message: `The sample input is not valid JSON: ${(err as Error).message}` }, 422);
  }
  return answer(await previewMapping(text(form, "expression"), input, target));
}
