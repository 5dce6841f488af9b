// /console/messages/templates: every email template rendered with its sample
// data (HTML in a sandboxed iframe, plus the plain-text part and SMS/push text).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { renderTemplatePreviews } from "~/messaging/templates/preview.server";

export const meta: MetaFunction = () => [{ title: "Message templates · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  return { previews: await renderTemplatePreviews() };
}

export default function TemplatePreviews() {
  const { previews } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>Message templates</h1>
      <p>Each template rendered with sample data, as recipients see it.</p>
      {previews.map((t) => (
        <section key={t.id} data-template={t.id} aria-label={t.label}>
          <h2>{t.label}</h2>
          <p>
            <strong>Subject:</strong> <span data-subject>{t.subject}</span>
            {t.attachments.length ? ` · attachments: ${t.attachments.join(", ")}` : ""}
          </p>
          <iframe
            title={`${t.label} preview`}
            srcDoc={t.html}
            sandbox=""
            style={{ width: "100%", height: "480px", border: "1px solid #e5e7eb", borderRadius: "6px" }}
          />
          <details>
            <summary>Plain text</summary>
            <pre data-text>{t.text}</pre>
          </details>
          <p>
            <strong>SMS / push:</strong> <span data-summary>{t.summary}</span>
          </p>
        </section>
      ))}
    </>
  );
}
