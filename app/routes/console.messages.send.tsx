// /console/messages/send: staff send a test message — a channel, a recipient
// and a template from the catalog, sent with the template's sample data
// through sendMessage (fresh idempotency key, not wedding-day critical),
// audited, then the message's timeline. Bad input is answered next to the
// field and nothing is written.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { CsrfField } from "~/components/CsrfField";
import { sendTestMessage, TEST_MESSAGE_CHANNELS, testMessageTemplates } from "~/messaging/test-message.server";

export const meta: MetaFunction = () => [{ title: "Send a test message · WedSync Integration Hub" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireStaff(request, context);
  return {
    channels: TEST_MESSAGE_CHANNELS,
    templates: testMessageTemplates(),
    me: { email: user.email, id: user.id },
    sandbox: context.hub.config.simulators,
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const result = await sendTestMessage(
    context.hub.db,
    { channel: form.get("channel"), template: form.get("template"), recipient: form.get("recipient") },
    { type: "user", id: user.id, label: user.email },
  );
  if (result.ok) return redirect(`/console/messages/${result.messageId}`);
  return data(result, { status: 422 });
}

type Field = "channel" | "template" | "recipient";

export default function SendTestMessage() {
  const { channels, templates, me, sandbox } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const failed = result && !result.ok ? result : null;
  const [channel, setChannel] = useState(failed?.values.channel || "email");
  const errorOf = (f: Field) => failed?.fields[f];
  const describedBy = (f: Field, hint?: boolean) =>
    [hint ? `${f}-hint` : null, errorOf(f) ? `${f}-error` : null].filter(Boolean).join(" ") || undefined;
  const fieldError = (f: Field) =>
    errorOf(f) ? (
      <p className="field-error" id={`${f}-error`}>
        {errorOf(f)}
      </p>
    ) : null;
  const hint = channels.find((c) => c.id === channel)?.recipientHint ?? "";
  const placeholder = channel === "email" ? me.email : channel === "sms" ? "+447700900123" : me.id;

  return (
    <>
      <h1>Send a test message</h1>
      <p className="muted">
        The template is filled with its sample data and sent like any other message: through the channel&apos;s providers in
        priority order, with failover, preferences and suppressions applied. It is never marked wedding-day critical. You land on
        its timeline.
        {sandbox ? " In the sandbox it goes to the simulators; see it in the Sandbox outbox." : ""}
      </p>
      {failed ? (
        <p className="alert error" role="alert">
          {failed.message}
        </p>
      ) : null}
      <Form method="post" className="stack" aria-label="Send a test message" key={failed ? "failed" : "new"}>
        <CsrfField />
        <label htmlFor="channel">Channel</label>
        <select
          id="channel"
          name="channel"
          value={channel}
          onChange={(e) => setChannel(e.currentTarget.value)}
          aria-invalid={errorOf("channel") ? true : undefined}
          aria-describedby={describedBy("channel")}
        >
          {channels.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
        {fieldError("channel")}

        <label htmlFor="recipient">Recipient</label>
        <input
          id="recipient"
          name="recipient"
          type="text"
          autoComplete="off"
          spellCheck={false}
          required
          defaultValue={failed?.values.recipient ?? ""}
          placeholder={placeholder}
          aria-invalid={errorOf("recipient") ? true : undefined}
          aria-describedby={describedBy("recipient", true)}
        />
        <p className="field-hint" id="recipient-hint">
          {hint}
        </p>
        {fieldError("recipient")}

        <label htmlFor="template">Template</label>
        <select
          id="template"
          name="template"
          defaultValue={failed?.values.template || templates[0]?.id}
          aria-invalid={errorOf("template") ? true : undefined}
          aria-describedby={describedBy("template")}
        >
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
        {fieldError("template")}

        <button type="submit" className="primary" disabled={navigation.state === "submitting"}>
          {navigation.state === "submitting" ? "Sending…" : "Send test message"}
        </button>
      </Form>
    </>
  );
}
