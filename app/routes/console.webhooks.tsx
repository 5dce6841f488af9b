import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { sectionRows } from "~/dashboard/sections.server";
import { SectionPage } from "~/components/SectionPage";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { data: await sectionRows(context.hub.db, "webhooks") };
}

export default function Page() {
  const { data } = useLoaderData<typeof loader>();
  return (
    <SectionPage title="Webhooks" emptyTitle="No webhook endpoints yet" data={data}>
      <p>Inbound endpoints for vendors&apos; systems and outbound subscriptions will appear here with their deliveries.</p>
    </SectionPage>
  );
}
