import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { getCouple } from "~/couples/queries.server";
import { NotFoundError } from "~/errors";
import { CoreFieldsView } from "~/components/CoreFieldsView";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  try {
    return { couple: await getCouple(context.hub.db, params.coupleId ?? "") };
  } catch (err) {
    if (err instanceof NotFoundError) throw new Response("Not found", { status: 404 });
    throw err;
  }
}

export default function CouplePage() {
  const { couple } = useLoaderData<typeof loader>();
  return <CoreFieldsView couple={couple} />;
}
