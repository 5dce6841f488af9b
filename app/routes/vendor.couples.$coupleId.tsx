import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireVendor } from "~/auth/guards.server";
import { getCoupleForSupplier } from "~/couples/queries.server";
import { NotFoundError } from "~/errors";
import { CoreFieldsView } from "~/components/CoreFieldsView";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  try {
    return { couple: await getCoupleForSupplier(context.hub.db, user.supplierId, params.coupleId ?? "") };
  } catch (err) {
    // Another vendor's couple is indistinguishable from one that does not exist.
    if (err instanceof NotFoundError) throw new Response("Not found", { status: 404 });
    throw err;
  }
}

export default function VendorCouple() {
  const { couple } = useLoaderData<typeof loader>();
  return <CoreFieldsView couple={couple} />;
}
