import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { sectionRows } from "~/dashboard/sections.server";
import { SectionPage } from "~/components/SectionPage";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { data: await sectionRows(context.hub.db, "messages") };
}

export default function Page() {
  const { data } = useLoaderData<typeof loader>();
  return (
    <SectionPage title="Messages" emptyTitle="No messages sent yet" data={data}>
      <p>Email, SMS and push messages the hub sends will be logged here with each one&apos;s delivery timeline.</p>
    </SectionPage>
  );
}
