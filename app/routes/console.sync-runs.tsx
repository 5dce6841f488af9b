import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { sectionRows } from "~/dashboard/sections.server";
import { SectionPage } from "~/components/SectionPage";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { data: await sectionRows(context.hub.db, "sync-runs") };
}

export default function Page() {
  const { data } = useLoaderData<typeof loader>();
  return (
    <SectionPage title="Sync runs" emptyTitle="No sync runs yet" data={data}>
      <p>Every import and calendar sync will record a run here, with its counts, errors and the mapping version it used.</p>
    </SectionPage>
  );
}
