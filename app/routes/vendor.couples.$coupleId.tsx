import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { eq } from "drizzle-orm";
import { requireVendor } from "~/auth/guards.server";
import { getCoupleForSupplier, isUuid } from "~/couples/queries.server";
import { NotFoundError } from "~/errors";
import { coreFields } from "../../db/schema";
import { CoreFieldsView } from "~/components/CoreFieldsView";
import { LiveUpdates, type HubEvent } from "~/components/LiveUpdates";

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireVendor(request, context);
  const coupleId = params.coupleId ?? "";
  try {
    if (!isUuid(coupleId)) throw new NotFoundError("No such couple");
    // Read before the couple, so the live stream resumes at or before what the page shows.
    const [position] = await context.hub.db
      .select({ seq: coreFields.lastSeq })
      .from(coreFields)
      .where(eq(coreFields.coupleId, coupleId));
    const couple = await getCoupleForSupplier(context.hub.db, user.supplierId, coupleId);
    return {
      couple: { ...couple, history: couple.history.map(({ fields: _fields, ...h }) => h) },
      after: position?.seq ?? 0,
      me: user.email,
      supplierId: user.supplierId,
    };
  } catch (err) {
    // Another vendor's couple is indistinguishable from one that does not exist.
    if (err instanceof NotFoundError) throw new Response("Not found", { status: 404 });
    throw err;
  }
}

export default function VendorCouple() {
  const { couple, after, me, supplierId } = useLoaderData<typeof loader>();
  return (
    <CoreFieldsView
      couple={couple}
      live={
        <LiveUpdates
          key={couple.id}
          room={`couple:${couple.id}`}
          after={after}
          me={me}
          // Another supplier's own fields are theirs: not announced here.
          ignore={(e: HubEvent) => e.type === "vendor_fields.updated" && e.supplierId !== supplierId}
        />
      }
    />
  );
}
