// Console previews: each template rendered with its sample data.
import { templateIds, templates } from "./catalog";
import { renderEmail, renderSummary, sampleData } from "./render.server";

export interface TemplatePreview {
  id: string;
  label: string;
  subject: string;
  html: string;
  text: string;
  summary: string;
  attachments: string[];
}

export async function renderTemplatePreviews(): Promise<TemplatePreview[]> {
  return Promise.all(
    templateIds.map(async (id) => {
      const data = sampleData(id);
      const email = await renderEmail(id, data);
      return {
        id,
        label: templates[id].label,
        subject: email.subject,
        html: email.html,
        text: email.text,
        summary: renderSummary(id, data).body,
        attachments: email.attachments.map((a) => a.filename),
      };
    }),
  );
}
