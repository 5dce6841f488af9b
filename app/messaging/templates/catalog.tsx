// The hub's message templates: React Email components rendered on the server
// (render.server.ts), each with a zod schema for its data (the boundary: a
// message's data is checked when it is queued, not when a worker renders it),
// a subject, a short text for SMS/push, and sample data for the console preview.
import * as React from "react";
import { Body, Button, Container, Head, Heading, Hr, Html, Preview, Section, Text } from "@react-email/components";
import { z } from "zod";

const colors = { ink: "#1f2937", muted: "#6b7280", accent: "#9d174d", line: "#e5e7eb", bg: "#f9fafb" };

function Layout(props: { preview: string; heading: string; children: React.ReactNode; action?: { label: string; url: string } }) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{props.preview}</Preview>
      <Body style={{ backgroundColor: colors.bg, fontFamily: "Helvetica, Arial, sans-serif", color: colors.ink }}>
        <Container
          style={{ backgroundColor: "#ffffff", margin: "24px auto", padding: "32px", maxWidth: "560px", borderRadius: "8px" }}
        >
          <Text style={{ color: colors.accent, fontWeight: 700, letterSpacing: "0.08em", fontSize: "12px", margin: 0 }}>
            WEDSYNC
          </Text>
          <Heading as="h1" style={{ fontSize: "22px", margin: "12px 0 16px" }}>
            {props.heading}
          </Heading>
          {props.children}
          {props.action ? (
            <Section style={{ margin: "24px 0 8px" }}>
              <Button
                href={props.action.url}
                style={{
                  backgroundColor: colors.accent,
                  color: "#ffffff",
                  padding: "12px 20px",
                  borderRadius: "6px",
                  fontWeight: 600,
                }}
              >
                {props.action.label}
              </Button>
            </Section>
          ) : null}
          <Hr style={{ borderColor: colors.line, margin: "24px 0 12px" }} />
          <Text style={{ color: colors.muted, fontSize: "12px", margin: 0 }}>
            Sent by the WedSync Integration Hub. You can change which messages you receive in your WedSync settings.
          </Text>
        </Container>
      </Body>
    </Html>
  );
}

const p = { fontSize: "15px", lineHeight: "24px", margin: "0 0 12px" };
const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const show = (v: z.infer<typeof value>) => (v === null || v === "" ? "—" : String(v));

// ------------------------------------------------------------ schemas

const coreFieldsChanged = z.object({
  supplierName: z.string().min(1).max(200),
  coupleName: z.string().min(1).max(200),
  changes: z
    .array(z.object({ label: z.string().min(1).max(200), old: value, new: value }))
    .min(1)
    .max(100),
  url: z.url().optional(),
});
const weddingReminder = z.object({
  coupleName: z.string().min(1).max(200),
  weddingDate: z.string().min(1).max(100),
  venue: z.string().max(300).optional(),
  daysToGo: z.number().int().min(0).max(3650),
  url: z.url().optional(),
});
const calendarInvite = z.object({
  coupleName: z.string().min(1).max(200),
  title: z.string().min(1).max(300),
  uid: z.string().min(1).max(300),
  /** A mapped event body (Google Calendar shape: start/end with date or dateTime). */
  event: z.record(z.string(), z.unknown()),
  whenText: z.string().min(1).max(200),
  location: z.string().max(300).optional(),
});
const importFinished = z.object({
  source: z.string().min(1).max(100),
  created: z.number().int().min(0),
  updated: z.number().int().min(0),
  skipped: z.number().int().min(0),
  failed: z.number().int().min(0),
  url: z.url().optional(),
});
const connectionNeedsReconnect = z.object({
  providerName: z.string().min(1).max(100),
  accountLabel: z.string().max(300).optional(),
  reason: z.string().max(500).optional(),
  url: z.url(),
});
const alertRaised = z.object({
  title: z.string().min(1).max(300),
  severity: z.enum(["info", "warning", "critical"]),
  detail: z.string().max(2000),
  url: z.url().optional(),
});

// ------------------------------------------------------------ templates

export interface TemplateDefinition<S extends z.ZodType> {
  id: string;
  label: string;
  schema: S;
  subject(data: z.infer<S>): string;
  Email(props: { data: z.infer<S> }): React.ReactElement;
  /** One or two sentences for SMS and push. */
  summary(data: z.infer<S>): string;
  sample: z.infer<S>;
}

const define = <S extends z.ZodType>(t: TemplateDefinition<S>) => t;

export const templates = {
  core_fields_changed: define({
    id: "core_fields_changed",
    label: "Core fields changed",
    schema: coreFieldsChanged,
    subject: (d) =>
      `${d.coupleName}: ${d.changes.length === 1 ? `${d.changes[0]!.label} changed` : `${d.changes.length} details changed`}`,
    summary: (d) =>
      `${d.coupleName}: ${d.changes.map((c) => `${c.label.toLowerCase()} ${show(c.old)} → ${show(c.new)}`).join(", ")}`,
    Email: ({ data }: { data: z.infer<typeof coreFieldsChanged> }) => (
      <Layout
        preview={`${data.coupleName}'s wedding details changed`}
        heading={`${data.coupleName}'s wedding details changed`}
        action={data.url ? { label: "Open the wedding", url: data.url } : undefined}
      >
        <Text style={p}>Hi {data.supplierName}, these details changed:</Text>
        {data.changes.map((c) => (
          <Text key={c.label} style={{ ...p, margin: "0 0 6px" }}>
            <strong>{c.label}</strong>: {show(c.old)} → {show(c.new)}
          </Text>
        ))}
      </Layout>
    ),
    sample: {
      supplierName: "Lens & Light Photography",
      coupleName: "Ava & Noah",
      changes: [
        { label: "Guest count", old: 120, new: 150 },
        { label: "Ceremony time", old: "14:00", new: "15:30" },
      ],
      url: "https://hub.example.com/vendor/couples/sample",
    },
  }),
  wedding_reminder: define({
    id: "wedding_reminder",
    label: "Wedding reminder",
    schema: weddingReminder,
    subject: (d) =>
      `${d.coupleName}'s wedding is ${d.daysToGo === 0 ? "today" : `in ${d.daysToGo} day${d.daysToGo === 1 ? "" : "s"}`}`,
    summary: (d) => `Reminder: ${d.coupleName}'s wedding on ${d.weddingDate}${d.venue ? ` at ${d.venue}` : ""}.`,
    Email: ({ data }: { data: z.infer<typeof weddingReminder> }) => (
      <Layout
        preview={`${data.coupleName}: ${data.weddingDate}`}
        heading={`${data.coupleName}'s wedding is coming up`}
        action={data.url ? { label: "See the details", url: data.url } : undefined}
      >
        <Text style={p}>
          The wedding is on <strong>{data.weddingDate}</strong>
          {data.venue ? (
            <>
              {" "}
              at <strong>{data.venue}</strong>
            </>
          ) : null}
          .
        </Text>
        <Text style={p}>{data.daysToGo === 0 ? "That is today." : `That is ${data.daysToGo} days from now.`}</Text>
      </Layout>
    ),
    sample: { coupleName: "Ava & Noah", weddingDate: "Saturday 12 June 2027", venue: "Hartwell House", daysToGo: 7 },
  }),
  calendar_invite: define({
    id: "calendar_invite",
    label: "Calendar invite",
    schema: calendarInvite,
    subject: (d) => `Invitation: ${d.title}`,
    summary: (d) => `${d.title}, ${d.whenText}${d.location ? `, ${d.location}` : ""}.`,
    Email: ({ data }: { data: z.infer<typeof calendarInvite> }) => (
      <Layout preview={`${data.title}, ${data.whenText}`} heading={data.title}>
        <Text style={p}>
          <strong>When:</strong> {data.whenText}
        </Text>
        {data.location ? (
          <Text style={p}>
            <strong>Where:</strong> {data.location}
          </Text>
        ) : null}
        <Text style={p}>The attached invite.ics adds it to your calendar.</Text>
      </Layout>
    ),
    sample: {
      coupleName: "Ava & Noah",
      title: "Ava & Noah: ceremony",
      uid: "sample-couple:ceremony",
      event: {
        summary: "Ava & Noah: ceremony",
        location: "Hartwell House",
        start: { dateTime: "2027-06-12T14:00:00+01:00" },
        end: { dateTime: "2027-06-12T15:00:00+01:00" },
      },
      whenText: "Saturday 12 June 2027, 14:00–15:00",
      location: "Hartwell House",
    },
  }),
  import_finished: define({
    id: "import_finished",
    label: "Import finished",
    schema: importFinished,
    subject: (d) => `Your ${d.source} import finished${d.failed ? ` (${d.failed} need attention)` : ""}`,
    summary: (d) => `${d.source} import finished: ${d.created} new, ${d.updated} updated, ${d.failed} failed.`,
    Email: ({ data }: { data: z.infer<typeof importFinished> }) => (
      <Layout
        preview={`${data.created} new, ${data.updated} updated`}
        heading={`Your ${data.source} import finished`}
        action={data.url ? { label: "Review the import", url: data.url } : undefined}
      >
        <Text style={p}>
          {data.created} new couples, {data.updated} updated, {data.skipped} unchanged, {data.failed} failed.
        </Text>
        {data.failed ? <Text style={p}>The failed records are listed with their reasons in the console.</Text> : null}
      </Layout>
    ),
    sample: {
      source: "Tave",
      created: 58,
      updated: 2,
      skipped: 0,
      failed: 2,
      url: "https://hub.example.com/vendor/imports/sample",
    },
  }),
  connection_needs_reconnect: define({
    id: "connection_needs_reconnect",
    label: "Connection needs reconnect",
    schema: connectionNeedsReconnect,
    subject: (d) => `Reconnect ${d.providerName} to keep syncing`,
    summary: (d) => `Your ${d.providerName} connection stopped working. Reconnect it: ${d.url}`,
    Email: ({ data }: { data: z.infer<typeof connectionNeedsReconnect> }) => (
      <Layout
        preview={`${data.providerName} needs you to sign in again`}
        heading={`Reconnect ${data.providerName}`}
        action={{ label: `Reconnect ${data.providerName}`, url: data.url }}
      >
        <Text style={p}>
          The hub can no longer reach your {data.providerName} account{data.accountLabel ? ` (${data.accountLabel})` : ""}, so
          nothing syncs with it until you sign in again.
        </Text>
        {data.reason ? <Text style={{ ...p, color: colors.muted }}>{data.reason}</Text> : null}
      </Layout>
    ),
    sample: {
      providerName: "Google Calendar",
      accountLabel: "studio@example.com",
      reason: "Google answered invalid_grant (access was revoked).",
      url: "https://hub.example.com/vendor/connections",
    },
  }),
  alert_raised: define({
    id: "alert_raised",
    label: "Alert raised",
    schema: alertRaised,
    subject: (d) => `[${d.severity.toUpperCase()}] ${d.title}`,
    summary: (d) => `[${d.severity}] ${d.title}`,
    Email: ({ data }: { data: z.infer<typeof alertRaised> }) => (
      <Layout
        preview={data.title}
        heading={data.title}
        action={data.url ? { label: "Open the console", url: data.url } : undefined}
      >
        <Text style={{ ...p, color: data.severity === "critical" ? "#b91c1c" : colors.ink, fontWeight: 600 }}>
          Severity: {data.severity}
        </Text>
        <Text style={p}>{data.detail}</Text>
      </Layout>
    ),
    sample: {
      title: "Resend circuit open: email failing over to SendGrid",
      severity: "warning",
      detail: "5 consecutive failures (HTTP 500). Messages are going out through SendGrid.",
      url: "https://hub.example.com/console/messages",
    },
  }),
} as const;

export type TemplateId = keyof typeof templates;
export const templateIds = Object.keys(templates) as TemplateId[];
export const templateIdSchema = z.enum(templateIds as [TemplateId, ...TemplateId[]]);
