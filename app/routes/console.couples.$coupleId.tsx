import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { and, asc, eq, gt } from "drizzle-orm";
import { requireStaff, type StaffRole } from "~/auth/guards.server";
import type { User } from "~/auth/users.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { getCouple, isUuid } from "~/couples/queries.server";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "~/errors";
import type { DbOrTx } from "~/db.server";
import { CORE_FIELDS, CORE_FIELD_NAMES, coerceFormValue } from "~/core-fields/schema";
import { principalFromUser } from "~/core-fields/principal";
import { updateCoreFields } from "~/core-fields/write.server";
import { coreFields, coreFieldVersions } from "../../db/schema";
import { CoreFieldsView } from "~/components/CoreFieldsView";
import { CoreFieldsEditor, toInputValue, type CoreFieldsEditResult } from "~/components/CoreFieldsEditor";
import { LiveUpdates } from "~/components/LiveUpdates";

/** Staff roles that may change core fields here; integration staff may look. */
const EDITORS: StaffRole[] = ["admin", "ops"];

const notFound = () => new Response("Not found", { status: 404 });

/** The couple's event-stream position; read before the page data, so the live stream resumes at or before it. */
async function streamPosition(db: DbOrTx, coupleId: string): Promise<number> {
  if (!isUuid(coupleId)) throw new NotFoundError("No such couple");
  const [row] = await db.select({ seq: coreFields.lastSeq }).from(coreFields).where(eq(coreFields.coupleId, coupleId));
  if (!row) throw new NotFoundError("No such couple");
  return row.seq;
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  const db = context.hub.db;
  try {
    const after = await streamPosition(db, params.coupleId ?? "");
    const couple = await getCouple(db, params.coupleId ?? "");
    return {
      // Each version's full field set stays on the server: the page shows the diffs.
      couple: { ...couple, history: couple.history.map(({ fields: _fields, ...h }) => h) },
      after,
      me: user.email,
      role: user.role,
      canEdit: EDITORS.includes(user.role as StaffRole),
    };
  } catch (err) {
    if (err instanceof NotFoundError) throw notFound();
    throw err;
  }
}

// A 409 answer changes nothing, but the page must show what the other person saved.
export const shouldRevalidate: ShouldRevalidateFunction = ({ actionStatus, defaultShouldRevalidate }) =>
  actionStatus === 409 ? true : defaultShouldRevalidate;

const reply = (result: CoreFieldsEditResult, status = 200) => data(result, { status });

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export async function action({ request, context, params }: ActionFunctionArgs) {
  let user: User;
  try {
    user = await requireStaff(request, context, EDITORS);
  } catch (err) {
    // Shown on the page, next to the form, rather than replacing it with an error page.
    if (err instanceof Response && err.status === 403) return reply({ status: "forbidden", message: await err.text() }, 403);
    throw err;
  }
  const form = await readVerifiedForm(request, context);
  const db = context.hub.db;
  const coupleId = params.coupleId ?? "";
  if (!isUuid(coupleId)) throw notFound();

  const version = Number(form.get("version"));
  // The values of the version the form was rendered from: the user's edits are what differs from them.
  const [base] = Number.isInteger(version)
    ? await db
        .select({ fields: coreFieldVersions.fields })
        .from(coreFieldVersions)
        .where(and(eq(coreFieldVersions.coupleId, coupleId), eq(coreFieldVersions.version, version)))
    : [];
  if (!base) {
    const [couple] = await db.select({ version: coreFields.version }).from(coreFields).where(eq(coreFields.coupleId, coupleId));
    if (!couple) throw notFound();
    return reply(
      {
        status: "bad_request",
        message: "This form does not say which version it was loaded from. Reload the page and try again.",
      },
      400,
    );
  }

  const values: Record<string, string> = {};
  const patch: Record<string, unknown> = {};
  for (const name of CORE_FIELD_NAMES) {
    const raw = form.get(name);
    if (typeof raw !== "string") continue;
    values[name] = raw;
    const next = coerceFormValue(CORE_FIELDS[name], raw); // "" → null: clear the field
    if (!same(next, base.fields[name])) patch[name] = next;
  }
  if (Object.keys(patch).length === 0) return reply({ status: "unchanged", version });

  try {
    const written = await updateCoreFields(db, principalFromUser(user), { coupleId, patch, expectedVersion: version });
    if (!written.event) return reply({ status: "unchanged", version: written.state.version });
    return reply({ status: "saved", version: written.state.version, changed: Object.keys(written.event.changedFields) });
  } catch (err) {
    if (err instanceof ValidationError) {
      return reply(
        {
          status: "invalid",
          message: "Some fields need attention; nothing was saved.",
          version,
          base: Object.fromEntries(CORE_FIELD_NAMES.map((name) => [name, toInputValue(base.fields[name])])),
          values,
          changed: Object.keys(patch),
          fieldErrors: err.fieldErrors,
        },
        422,
      );
    }
    if (err instanceof ConflictError) return reply(await conflict(db, coupleId, version, base.fields, patch, values), 409);
    if (err instanceof ForbiddenError) return reply({ status: "forbidden", message: err.message }, 403);
    if (err instanceof NotFoundError) throw notFound();
    throw err;
  }
}

/** What changed since the form's version, and by whom; the user's own edits are kept for the re-based form. */
async function conflict(
  db: DbOrTx,
  coupleId: string,
  version: number,
  baseFields: Record<string, unknown>,
  patch: Record<string, unknown>,
  values: Record<string, string>,
): Promise<CoreFieldsEditResult> {
  const [current] = await db
    .select({ version: coreFields.version, fields: coreFields.fields })
    .from(coreFields)
    .where(eq(coreFields.coupleId, coupleId));
  if (!current) throw notFound();
  const since = await db
    .select({ actor: coreFieldVersions.actor })
    .from(coreFieldVersions)
    .where(and(eq(coreFieldVersions.coupleId, coupleId), gt(coreFieldVersions.version, version)))
    .orderBy(asc(coreFieldVersions.version));
  const theirs: Record<string, { old: unknown; new: unknown }> = {};
  for (const name of CORE_FIELD_NAMES) {
    if (!same(baseFields[name], current.fields[name]))
      theirs[name] = { old: baseFields[name] ?? null, new: current.fields[name] ?? null };
  }
  return {
    status: "conflict",
    message: `Someone else changed these fields while you were editing (now version ${current.version}). Their change is shown below; review it and save again.`,
    version: current.version,
    fields: current.fields,
    mine: Object.fromEntries(Object.keys(patch).map((name) => [name, values[name] ?? ""])),
    theirs,
    by: [...new Set(since.map((v) => v.actor))],
  };
}

export default function CouplePage() {
  const { couple, after, me, role, canEdit } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <CoreFieldsView
      couple={couple}
      live={<LiveUpdates key={couple.id} room={`couple:${couple.id}`} after={after} me={me} />}
      editor={
        canEdit ? (
          <CoreFieldsEditor key={couple.id} couple={couple} result={result} />
        ) : (
          <section className="editor" aria-labelledby="edit-core-fields">
            <h2 id="edit-core-fields">Edit fields</h2>
            {result && "message" in result ? (
              <p className="alert error" role="alert">
                {result.message}
              </p>
            ) : null}
            <p className="muted">
              Changing core fields needs the {EDITORS.join(" or ")} role; you are signed in as {role}. These values update live.
            </p>
          </section>
        )
      }
    />
  );
}
