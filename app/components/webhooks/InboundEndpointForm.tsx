// The inbound endpoint form (create and edit): scheme and its options, what
// the endpoint applies and with which mapping, and its limits.
import { useState } from "react";
import { Form } from "@remix-run/react";
import { CsrfField } from "~/components/CsrfField";
import { SCHEMES, SCHEME_LABELS, type SchemeConfig, type SchemeId } from "~/webhooks/inbound/scheme-config";

export interface EndpointFormValues {
  name: string;
  description: string | null;
  supplierId: string | null;
  scheme: SchemeConfig;
  mappingId: string | null;
  applyAs: "core-fields" | "client";
  coupleIdExpression: string;
  rateLimitPerMinute: number;
  maxBodyBytes: number;
}

export interface EndpointFormChoices {
  suppliers: { id: string; name: string }[];
  mappings: { id: string; slug: string; name: string; target: string; activeVersion: number | null }[];
}

function FieldError({ errors, name }: { errors?: Record<string, string[]>; name: string }) {
  const list = errors?.[name] ?? errors?.[`scheme.${name}`];
  return list?.length ? (
    <p className="error-text" id={`${name}-error`}>
      {list.join("; ")}
    </p>
  ) : null;
}

export function InboundEndpointForm({
  intent,
  values,
  choices,
  errors,
  submitLabel,
  withSecret,
}: {
  intent: string;
  values: EndpointFormValues | null;
  choices: EndpointFormChoices;
  errors?: Record<string, string[]>;
  submitLabel: string;
  withSecret: boolean;
}) {
  const [scheme, setScheme] = useState<SchemeId>(values?.scheme.id ?? "standard-webhooks");
  const [applyAs, setApplyAs] = useState<"core-fields" | "client">(values?.applyAs ?? "core-fields");
  const hmac = values?.scheme.id === "hmac-sha256" ? values.scheme : null;
  const stripe = values?.scheme.id === "stripe" ? values.scheme : null;
  const want = applyAs === "client" ? "wedsync-client" : "core-fields";
  return (
    <Form method="post" className="stack" aria-label={submitLabel}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      <label htmlFor="name">Source name</label>
      <input id="name" name="name" required defaultValue={values?.name ?? ""} placeholder="Studio CRM" />
      <FieldError errors={errors} name="name" />
      <label htmlFor="description">Description</label>
      <input id="description" name="description" defaultValue={values?.description ?? ""} />

      <label htmlFor="scheme">Verification</label>
      <select id="scheme" name="scheme" value={scheme} onChange={(e) => setScheme(e.currentTarget.value as SchemeId)}>
        {SCHEMES.map((s) => (
          <option key={s} value={s}>
            {SCHEME_LABELS[s]}
          </option>
        ))}
      </select>
      {scheme === "hmac-sha256" ? (
        <fieldset>
          <legend>HMAC options</legend>
          <label htmlFor="hmacHeader">Signature header</label>
          <input id="hmacHeader" name="hmacHeader" defaultValue={hmac?.header ?? "x-signature"} />
          <FieldError errors={errors} name="header" />
          <label htmlFor="hmacEncoding">Encoding</label>
          <select id="hmacEncoding" name="hmacEncoding" defaultValue={hmac?.encoding ?? "hex"}>
            <option value="hex">hex</option>
            <option value="base64">base64</option>
          </select>
          <label htmlFor="hmacPrefix">Prefix (e.g. sha256=)</label>
          <input id="hmacPrefix" name="hmacPrefix" defaultValue={hmac?.prefix ?? ""} />
          <label htmlFor="hmacTimestampHeader">Timestamp header (optional; signs &lt;timestamp&gt;.&lt;body&gt;)</label>
          <input id="hmacTimestampHeader" name="hmacTimestampHeader" defaultValue={hmac?.timestampHeader ?? ""} />
          <label htmlFor="hmacIdHeader">Delivery id header (optional, for dedupe)</label>
          <input id="hmacIdHeader" name="hmacIdHeader" defaultValue={hmac?.idHeader ?? ""} />
        </fieldset>
      ) : null}
      {scheme === "stripe" ? (
        <>
          <label htmlFor="stripeHeader">Signature header</label>
          <input id="stripeHeader" name="stripeHeader" defaultValue={stripe?.header ?? "stripe-signature"} />
        </>
      ) : null}
      {withSecret ? (
        <>
          <label htmlFor="secret">Secret (leave empty to generate one)</label>
          <input id="secret" name="secret" type="password" autoComplete="off" aria-describedby="secret-help" />
          <p className="muted" id="secret-help">
            Enter the provider&apos;s secret (Twilio auth token, Google channel token, Graph clientState) or let the hub generate
            one; it is shown once and kept encrypted.
          </p>
          <FieldError errors={errors} name="secret" />
        </>
      ) : null}

      <label htmlFor="applyAs">Applies as</label>
      <select
        id="applyAs"
        name="applyAs"
        value={applyAs}
        onChange={(e) => setApplyAs(e.currentTarget.value as "core-fields" | "client")}
      >
        <option value="core-fields">a core-field change of one couple</option>
        <option value="client">a client upsert (create or update a supplier&apos;s couple)</option>
      </select>
      <label htmlFor="mappingId">Mapping</label>
      <select id="mappingId" name="mappingId" defaultValue={values?.mappingId ?? ""}>
        <option value="">— choose a {want} mapping —</option>
        {choices.mappings
          .filter((m) => m.target === want)
          .map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} ({m.slug}
              {m.activeVersion ? `, v${m.activeVersion}` : ", unpublished"})
            </option>
          ))}
      </select>
      <FieldError errors={errors} name="mappingId" />
      {applyAs === "core-fields" ? (
        <>
          <label htmlFor="coupleIdExpression">Couple id in the payload (JSONata)</label>
          <input id="coupleIdExpression" name="coupleIdExpression" defaultValue={values?.coupleIdExpression ?? "coupleId"} />
          <FieldError errors={errors} name="coupleIdExpression" />
        </>
      ) : null}
      <label htmlFor="supplierId">
        Supplier {applyAs === "client" ? "(required)" : "(optional: limits changes to its couples)"}
      </label>
      <select id="supplierId" name="supplierId" defaultValue={values?.supplierId ?? ""}>
        <option value="">— none —</option>
        {choices.suppliers.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <FieldError errors={errors} name="supplierId" />

      <label htmlFor="rateLimitPerMinute">Deliveries per minute (429 above)</label>
      <input
        id="rateLimitPerMinute"
        name="rateLimitPerMinute"
        type="number"
        min={1}
        defaultValue={values?.rateLimitPerMinute ?? 600}
      />
      <FieldError errors={errors} name="rateLimitPerMinute" />
      <label htmlFor="maxBodyBytes">Largest body in bytes (413 above)</label>
      <input id="maxBodyBytes" name="maxBodyBytes" type="number" min={256} defaultValue={values?.maxBodyBytes ?? 262144} />
      <FieldError errors={errors} name="maxBodyBytes" />
      <button type="submit" className="primary">
        {submitLabel}
      </button>
    </Form>
  );
}
