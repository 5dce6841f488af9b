// One inbound endpoint: its URL, settings (edit), secret rotation, a sample
// request (curl signed with the real secret, on demand, staff only), the
// deliveries with verification, mapped output and result, replay of one
// delivery or of every dead letter (audited), and the refusals counted.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { DomainError, ValidationError } from "~/errors";
import { CsrfField } from "~/components/CsrfField";
import { EmptyState } from "~/components/Shell";
import { formatWhen } from "~/components/connectors/labels";
import { InboundEndpointForm } from "~/components/webhooks/InboundEndpointForm";
import {
  publicView,
  rotateInboundSecret,
  setInboundEndpointStatus,
  updateInboundEndpoint,
} from "~/webhooks/inbound/endpoints.server";
import {
  endpointFormChoices,
  endpointInputFromForm,
  inboundEndpointDetail,
  sampleRequest,
} from "~/webhooks/inbound/console.server";
import { replayDeadLetters, replayDelivery } from "~/webhooks/inbound/process.server";
import { SCHEME_LABELS } from "~/webhooks/inbound/scheme-config";

const STATUSES = ["received", "failed", "dead", "processed"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const status = new URL(request.url).searchParams.get("status");
  const detail = await inboundEndpointDetail(context.hub, params.endpointId ?? "", {
    status: STATUSES.find((s) => s === status),
  });
  const e = detail.endpoint;
  return {
    endpoint: { id: e.id, ...publicView(e), rotating: e.previousSecretExpiresAt?.toISOString() ?? null },
    url: detail.url,
    mapping: detail.mapping,
    status: status ?? "",
    choices: await endpointFormChoices(context.hub.db),
    refusals: {
      total: detail.refusals.total,
      byStatus: detail.refusals.byStatus,
      recent: detail.refusals.recent.map((r) => ({ id: r.id, status: r.status, reason: r.reason, at: r.at.toISOString() })),
    },
    deliveries: detail.deliveries.map((d) => ({
      id: d.id,
      externalId: d.externalId,
      eventType: d.eventType,
      status: d.status,
      verification: d.verification,
      mappedOutput: d.mappedOutput ?? null,
      result: d.result,
      attempts: d.attempts,
      lastError: d.lastError,
      nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
      createdAt: d.createdAt.toISOString(),
      log: detail.attempts
        .filter((a) => a.deliveryId === d.id)
        .map((a) => ({
          attempt: a.attempt,
          outcome: a.outcome,
          error: a.error,
          at: a.startedAt.toISOString(),
          ms: a.durationMs,
        })),
    })),
  };
}

type Reply =
  | { tone: "ok"; message: string; secret?: string; curl?: string }
  | { tone: "error"; message: string; fields?: Record<string, string[]> };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context, ["admin", "integration"]);
  const form = await readVerifiedForm(request, context);
  const id = params.endpointId ?? "";
  const actor = { type: "user", id: user.id, label: user.email } as const;
  const intent = String(form.get("intent") ?? "");
  const noStore = { headers: { "Cache-Control": "no-store" } };
  try {
    switch (intent) {
      case "update":
        await updateInboundEndpoint(context.hub.db, id, endpointInputFromForm(form), actor);
        return data<Reply>({ tone: "ok", message: "Settings saved." });
      case "rotate": {
        const hours = Number(form.get("overlapHours") ?? 24);
        const entered = form.get("secret");
        const r = await rotateInboundSecret(context.hub.db, context.hub.vault, id, {
          secret: typeof entered === "string" ? entered : null,
          overlapSeconds: Math.round((Number.isFinite(hours) ? hours : 24) * 3600),
          actor,
        });
        return data<Reply>(
          {
            tone: "ok",
            message: r.previousExpiresAt
              ? `New secret set. The old one keeps verifying until ${formatWhen(r.previousExpiresAt)}. Copy the new one now; it is not shown again.`
              : "New secret set; the old one no longer verifies. Copy the new one now; it is not shown again.",
            secret: r.secret,
          },
          noStore,
        );
      }
      case "sample": {
        const detail = await inboundEndpointDetail(context.hub, id);
        const sample = sampleRequest(context.hub, detail.endpoint);
        if (!sample)
          return data<Reply>({ tone: "error", message: "This endpoint has no secret yet: rotate to set one." }, { status: 409 });
        return data<Reply>(
          {
            tone: "ok",
            message: `Sample request, valid until ${formatWhen(sample.validUntil)} (timestamps older than 5 minutes are refused).`,
            curl: sample.curl,
          },
          noStore,
        );
      }
      case "replay":
        await replayDelivery(context.hub, String(form.get("deliveryId") ?? ""), actor);
        return data<Reply>({
          tone: "ok",
          message: "Delivery queued again: a worker maps and applies it with the current mapping.",
        });
      case "replay-dead": {
        const n = await replayDeadLetters(context.hub, id, actor);
        return data<Reply>({
          tone: "ok",
          message: n ? `${n} dead letter${n === 1 ? "" : "s"} queued again.` : "There are no dead letters to replay.",
        });
      }
      case "disable":
      case "enable":
        await setInboundEndpointStatus(context.hub.db, id, intent === "enable" ? "active" : "disabled", actor);
        return data<Reply>({
          tone: "ok",
          message: intent === "enable" ? "Endpoint enabled." : "Endpoint disabled: deliveries now get 404.",
        });
      default:
        return data<Reply>({ tone: "error", message: "Unknown action." }, { status: 400 });
    }
  } catch (err) {
    if (err instanceof ValidationError)
      return data<Reply>({ tone: "error", message: err.message, fields: err.fieldErrors }, { status: 422 });
    if (err instanceof DomainError) return data<Reply>({ tone: "error", message: err.message }, { status: err.status });
    throw err;
  }
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

export default function InboundEndpointPage() {
  const { endpoint, url, mapping, deliveries, refusals, choices, status } = useLoaderData<typeof loader>();
  const reply = useActionData<typeof action>();
  const dead = deliveries.filter((d) => d.status === "dead").length;
  return (
    <>
      <p>
        <Link to="/console/webhooks">← Inbound webhooks</Link>
      </p>
      <h1>{endpoint.name}</h1>
      {reply ? (
        <div className={`alert ${reply.tone}`} role={reply.tone === "ok" ? "status" : "alert"} data-reply>
          <p>{reply.message}</p>
          {"secret" in reply && reply.secret ? (
            <input aria-label="New secret" readOnly value={reply.secret} onFocus={(e) => e.currentTarget.select()} data-secret />
          ) : null}
          {"curl" in reply && reply.curl ? (
            <pre data-sample-curl>
              <code>{reply.curl}</code>
            </pre>
          ) : null}
        </div>
      ) : null}
      <dl>
        <dt>URL</dt>
        <dd>
          <code data-endpoint-url>{url}</code>
        </dd>
        <dt>Verification</dt>
        <dd>{SCHEME_LABELS[endpoint.scheme.id]}</dd>
        <dt>Applies as</dt>
        <dd>
          {endpoint.applyAs} through{" "}
          {mapping ? (
            <Link to={`/console/mappings/${mapping.slug}`} data-edit-mapping>
              {mapping.name} (edit the mapping)
            </Link>
          ) : (
            <span className="error-text">no mapping — deliveries fail until one is chosen</span>
          )}
        </dd>
        <dt>Status</dt>
        <dd>
          {endpoint.status}
          {endpoint.rotating ? (
            <span className="muted"> · previous secret verifies until {formatWhen(endpoint.rotating)}</span>
          ) : null}
        </dd>
        <dt>Refusals</dt>
        <dd data-refusal-count>
          {refusals.total}
          {refusals.byStatus.length ? (
            <span className="muted"> ({refusals.byStatus.map((r) => `${r.n}× ${r.status}`).join(", ")})</span>
          ) : null}
        </dd>
      </dl>

      <section aria-labelledby="sample-h">
        <h2 id="sample-h">Sample request</h2>
        <p className="muted">
          A ready-to-run curl, signed now with this endpoint&apos;s real secret (so treat it like the secret).
        </p>
        <Form method="post">
          <CsrfField />
          <input type="hidden" name="intent" value="sample" />
          <button type="submit" className="secondary">
            Show a signed sample request
          </button>
        </Form>
      </section>

      <section aria-labelledby="deliveries-h">
        <h2 id="deliveries-h">Deliveries</h2>
        <Form method="get" className="inline">
          <label htmlFor="status">Status</label>{" "}
          <select id="status" name="status" defaultValue={status}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>{" "}
          <button type="submit" className="secondary">
            Filter
          </button>
        </Form>
        <Form method="post">
          <CsrfField />
          <input type="hidden" name="intent" value="replay-dead" />
          <button type="submit" className="secondary" data-replay-dead>
            Replay all dead letters{dead ? ` (${dead} shown)` : ""}
          </button>
        </Form>
        {deliveries.length === 0 ? (
          <EmptyState title="No deliveries yet">
            <p>Send the sample request above to see one here.</p>
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Delivery</th>
                  <th scope="col">Status</th>
                  <th scope="col">Verification</th>
                  <th scope="col">Mapped output</th>
                  <th scope="col">Result</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                    <td>
                      <time dateTime={d.createdAt}>{formatWhen(d.createdAt)}</time>
                    </td>
                    <td>
                      <code>{d.externalId ?? d.id.slice(0, 8)}</code>
                      {d.eventType ? <div className="muted">{d.eventType}</div> : null}
                    </td>
                    <td>
                      {d.status}
                      <div className="muted">
                        {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
                        {d.nextAttemptAt ? ` · next ${formatWhen(d.nextAttemptAt)}` : ""}
                      </div>
                    </td>
                    <td>
                      <code>
                        {d.verification ? `${String(d.verification.scheme)}: ok (${String(d.verification.secret)} secret)` : "–"}
                      </code>
                    </td>
                    <td>
                      {d.mappedOutput !== null ? (
                        <details>
                          <summary>output</summary>
                          <pre>{json(d.mappedOutput)}</pre>
                        </details>
                      ) : (
                        "–"
                      )}
                    </td>
                    <td>
                      {d.lastError && d.status !== "processed" ? <span className="error-text">{d.lastError}</span> : null}
                      {d.result ? (
                        <details>
                          <summary>result and attempts</summary>
                          <pre>{json(d.result)}</pre>
                          <ol>
                            {d.log.map((a) => (
                              <li key={a.attempt}>
                                {`#${a.attempt} ${a.outcome} at ${formatWhen(a.at)}${a.ms !== null ? ` (${a.ms} ms)` : ""}`}
                                {a.error ? `: ${a.error}` : ""}
                              </li>
                            ))}
                          </ol>
                        </details>
                      ) : null}
                    </td>
                    <td>
                      {d.status !== "received" ? (
                        <Form method="post">
                          <CsrfField />
                          <input type="hidden" name="intent" value="replay" />
                          <input type="hidden" name="deliveryId" value={d.id} />
                          <button type="submit" className="secondary" aria-label={`Replay delivery ${d.externalId ?? d.id}`}>
                            Replay
                          </button>
                        </Form>
                      ) : (
                        <span className="muted">queued</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="refusals-h">
        <h2 id="refusals-h">Recent refusals</h2>
        {refusals.recent.length === 0 ? (
          <p className="muted">None: every request so far was accepted.</p>
        ) : (
          <ul>
            {refusals.recent.map((r) => (
              <li key={r.id}>
                <time dateTime={r.at}>{formatWhen(r.at)}</time> · {r.status} · {r.reason}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="settings-h">
        <h2 id="settings-h">Settings</h2>
        <InboundEndpointForm
          intent="update"
          values={{ ...endpoint, coupleIdExpression: endpoint.coupleIdExpression }}
          choices={choices}
          errors={reply && "fields" in reply ? reply.fields : undefined}
          submitLabel="Save settings"
          withSecret={false}
        />
        <h3>Rotate the secret</h3>
        <Form method="post" className="stack">
          <CsrfField />
          <input type="hidden" name="intent" value="rotate" />
          <label htmlFor="rotate-secret">New secret (leave empty to generate)</label>
          <input id="rotate-secret" name="secret" type="password" autoComplete="off" />
          <label htmlFor="overlapHours">Old secret keeps verifying for (hours)</label>
          <input id="overlapHours" name="overlapHours" type="number" min={0} max={720} defaultValue={24} />
          <button type="submit" className="secondary">
            Rotate secret
          </button>
        </Form>
        <Form method="post">
          <CsrfField />
          <input type="hidden" name="intent" value={endpoint.status === "active" ? "disable" : "enable"} />
          <button type="submit" className="secondary">
            {endpoint.status === "active" ? "Disable endpoint" : "Enable endpoint"}
          </button>
        </Form>
      </section>
    </>
  );
}
