import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { sectionRows } from "~/dashboard/sections.server";
import { SectionPage } from "~/components/SectionPage";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { data: await sectionRows(context.hub.db, "connectors") };
}

export default function Page() {
  const { data } = useLoaderData<typeof loader>();
  return (
    <SectionPage title="Connectors" emptyTitle="No connector settings yet" data={data}>
      <p>
        The connector catalog (Google, Outlook, CalDAV, Tave, HoneyBook, 17hats, LightBlue, Resend, SendGrid, SES, Twilio) is
        being built. Until then no connector has staff settings.
      </p>
    </SectionPage>
  );
}
