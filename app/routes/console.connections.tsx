import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { sectionRows } from "~/dashboard/sections.server";
import { SectionPage } from "~/components/SectionPage";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { data: await sectionRows(context.hub.db, "connections") };
}

export default function Page() {
  const { data } = useLoaderData<typeof loader>();
  return (
    <SectionPage title="Connections" emptyTitle="No vendor connections yet" data={data}>
      <p>When vendors connect their calendar, CRM or messaging accounts, each connection and its health appears here.</p>
    </SectionPage>
  );
}
