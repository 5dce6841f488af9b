// Wedding-day mode: the weddings in it now (automatically within 48 hours of
// their date in their own time zone, or switched on by ops) with their health,
// and the switch itself (on / off / automatic), audited.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireStaff } from "~/auth/guards.server";
import { readVerifiedForm } from "~/auth/csrf.server";
import { DomainError } from "~/errors";
import { EmptyState } from "~/components/Shell";
import { CsrfField } from "~/components/CsrfField";
import { formatWhen } from "~/components/connectors/labels";
import { weddingDayHealth } from "~/wedding-day/health.server";
import { setWeddingDayOverride, WEDDING_DAY_LEAD_HOURS } from "~/wedding-day/mode.server";
import { enqueueJob } from "~/jobs/enqueue.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireStaff(request, context);
  const rows = await weddingDayHealth(context.hub);
  return {
    leadHours: WEDDING_DAY_LEAD_HOURS,
    weddings: rows.map((w) => ({
      coupleId: w.coupleId,
      displayName: w.displayName,
      weddingDate: w.weddingDate,
      timeZone: w.timeZone,
      source: w.state.source,
      windowStart: w.state.window?.start.toISOString() ?? null,
      windowEnd: w.state.window?.end.toISOString() ?? null,
      messagesWaiting: w.messagesWaiting,
      messagesFailed: w.messagesFailed,
      webhooksFailing: w.webhooksFailing,
      connectionsNeedingReconnect: w.connectionsNeedingReconnect,
      prewarm: { ...w.prewarm, lastAt: w.prewarm.lastAt?.toISOString() ?? null },
      health: w.health,
    })),
  };
}

const switchSchema = z.object({
  coupleId: z.uuid("Choose a couple (its id is on the couple's page)."),
  mode: z.enum(["on", "off", "auto"], "Choose on, off or automatic."),
});

interface SwitchReply {
  tone: "ok" | "error";
  message: string;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireStaff(request, context);
  const form = await readVerifiedForm(request, context);
  const parsed = switchSchema.safeParse({ coupleId: String(form.get("coupleId") ?? "").trim(), mode: form.get("mode") });
  if (!parsed.success)
    return data<SwitchReply>({ tone: "error", message: parsed.error.issues.map((i) => i.message).join(" ") }, { status: 400 });
  try {
    const after = await context.hub.db.transaction(async (tx) => {
      const couple = await setWeddingDayOverride(tx, parsed.data.coupleId, parsed.data.mode, {
        type: "user",
        id: user.id,
        label: user.email,
      });
      // Switched on: pre-warm now rather than at the next cron slot.
      if (couple.state.active)
        await enqueueJob(tx, "prewarm_wedding_days", {}, { jobKey: "wedding-day:prewarm", jobKeyMode: "replace" });
      return couple;
    });
    const label = parsed.data.mode === "auto" ? "automatic (from the wedding date)" : parsed.data.mode;
    return data<SwitchReply>({
      tone: "ok",
      message: `${after.displayName}: wedding-day mode set to ${label}; it is ${after.state.active ? "on" : "off"} now.`,
    });
  } catch (err) {
    if (err instanceof DomainError) return data<SwitchReply>({ tone: "error", message: err.message }, { status: err.status });
    throw err;
  }
}

export default function WeddingDay() {
  const { weddings, leadHours } = useLoaderData<typeof loader>();
  const reply = useActionData<typeof action>();
  return (
    <>
      <h1>Wedding day</h1>
      <p className="muted">
        A wedding is in wedding-day mode from {leadHours} hours before its date begins (in the couple&apos;s time zone) until that
        day ends, or when ops switch it on. Its jobs run first, bulk imports and routine calendar syncs wait for them, and its
        vendors&apos; tokens and calendars are checked ahead of time.
      </p>
      {reply ? (
        <p className={`alert ${reply.tone}`} role={reply.tone === "ok" ? "status" : "alert"}>
          {reply.message}
        </p>
      ) : null}
      {weddings.length === 0 ? (
        <EmptyState title="No weddings in wedding-day mode">
          <p>Weddings within {leadHours} hours, and any switched on below, show here with their health.</p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="connections" data-wedding-day-list>
            <thead>
              <tr>
                <th scope="col">Couple</th>
                <th scope="col">Wedding</th>
                <th scope="col">Health</th>
                <th scope="col">Messages</th>
                <th scope="col">Webhooks failing</th>
                <th scope="col">Reconnects</th>
                <th scope="col">Pre-warm</th>
                <th scope="col">Mode</th>
              </tr>
            </thead>
            <tbody>
              {weddings.map((w) => (
                <tr key={w.coupleId} data-wedding-day={w.coupleId}>
                  <td>
                    <Link to={`/console/couples/${w.coupleId}`}>{w.displayName}</Link>
                  </td>
                  <td>
                    {w.weddingDate ?? "no date"}
                    <div className="muted">
                      {w.timeZone}
                      {w.windowEnd ? ` · until ${formatWhen(w.windowEnd)}` : ""}
                    </div>
                  </td>
                  <td>
                    <span className={`kpi-state ${w.health}`} data-health={w.health}>
                      {w.health}
                    </span>
                  </td>
                  <td>
                    <Link to={`/console/messages?couple=${w.coupleId}`}>
                      {w.messagesWaiting} waiting, {w.messagesFailed} failed
                    </Link>
                  </td>
                  <td>{w.webhooksFailing}</td>
                  <td>{w.connectionsNeedingReconnect}</td>
                  <td>
                    {w.prewarm.lastAt ? (
                      <>
                        {w.prewarm.verified}/{w.prewarm.connections} calendars verified
                        <div className="muted">{formatWhen(w.prewarm.lastAt)}</div>
                        {w.prewarm.errors.map((e) => (
                          <div key={e} className="error-text">
                            {e}
                          </div>
                        ))}
                      </>
                    ) : (
                      <span className="muted">not yet</span>
                    )}
                  </td>
                  <td>
                    {w.source === "auto" ? "automatic" : `switched ${w.source}`}
                    <SwitchForm coupleId={w.coupleId} current={w.source} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Switch a wedding by hand</h2>
      <Form method="post" className="stack" aria-label="Switch wedding-day mode">
        <CsrfField />
        <label>
          Couple id
          <input name="coupleId" required placeholder="e.g. 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed" />
        </label>
        <fieldset>
          <legend>Wedding-day mode</legend>
          <label>
            <input type="radio" name="mode" value="on" defaultChecked /> On
          </label>
          <label>
            <input type="radio" name="mode" value="off" /> Off
          </label>
          <label>
            <input type="radio" name="mode" value="auto" /> Automatic (from the date)
          </label>
        </fieldset>
        <button type="submit">Apply</button>
      </Form>
    </>
  );
}

function SwitchForm({ coupleId, current }: { coupleId: string; current: "auto" | "on" | "off" }) {
  return (
    <Form method="post" className="inline">
      <CsrfField />
      <input type="hidden" name="coupleId" value={coupleId} />
      {current !== "off" ? (
        <button type="submit" name="mode" value="off" className="secondary">
          Switch off
        </button>
      ) : null}
      {current !== "auto" ? (
        <button type="submit" name="mode" value="auto" className="secondary">
          Automatic
        </button>
      ) : null}
    </Form>
  );
}
