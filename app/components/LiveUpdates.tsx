// Live updates for a page: joins one realtime room (`couple:<id>` or
// `supplier:<id>`) over the console session, re-runs the page's loaders on
// every event, and says what changed. The socket only exists in the browser.
import { useEffect, useRef, useState } from "react";
import { useRevalidator } from "@remix-run/react";
import { CORE_FIELDS, VENDOR_FIELDS, type FieldSet } from "~/core-fields/schema";
import { connectHub, type StreamEvent } from "./hub-socket.client";
import { fieldLabel, showValue } from "./CoreFieldsView";

export type HubEvent = StreamEvent["event"];
type Connection = { state: "connecting" | "live" | "reconnecting" | "offline" | "refused"; message?: string };

export interface LiveUpdatesProps {
  /** "couple:<id>" or "supplier:<id>". Give the component a `key` per room: the socket is opened once per mount. */
  room: string;
  /** Stream position the page's data was read at; events after it are replayed, so nothing between load and join is missed. */
  after?: number;
  /** The signed-in user's actor label (their email): their own changes read "by you". */
  me?: string;
  /** Events not to announce (still revalidated), e.g. other suppliers' own fields in the vendor area. */
  ignore?: (e: HubEvent) => boolean;
  /** Names what an event is about, e.g. the couple on a list page ("Amelia & Noah"). */
  subject?: (e: HubEvent) => string | null;
}

const MAX_CHANGES = 4;

function labelIn(set: FieldSet, name: string): string {
  return set[name]?.label ?? fieldLabel(name);
}

/** "Guest count 120 → 150; Venue Lakeside Manor → The Old Library" */
export function describeChanges(e: HubEvent): string {
  const set: FieldSet = e.type === "vendor_fields.updated" ? VENDOR_FIELDS : CORE_FIELDS;
  const entries = Object.entries(e.changedFields);
  const parts = entries
    .slice(0, MAX_CHANGES)
    .map(([name, d]) => `${labelIn(set, name)} ${showValue(d.old)} → ${showValue(d.new)}`);
  if (entries.length > MAX_CHANGES) parts.push(`and ${entries.length - MAX_CHANGES} more`);
  return parts.join("; ");
}

const INDICATOR: Record<Connection["state"], string> = {
  connecting: "Connecting to live updates…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Live updates off",
  refused: "Live updates unavailable",
};

export function LiveUpdates({ room, after, me, ignore, subject }: LiveUpdatesProps) {
  const revalidator = useRevalidator();
  const { revalidate } = revalidator;
  // One revalidation at a time: a new one would abort the running one (and log the abort). Events
  // that arrive meanwhile are folded into one more revalidation when it ends.
  const busy = useRef(false);
  const again = useRef(false);
  useEffect(() => {
    busy.current = revalidator.state !== "idle";
    if (revalidator.state === "idle" && again.current) {
      busy.current = true;
      again.current = false;
      revalidate();
    }
  }, [revalidator.state, revalidate]);
  const [connection, setConnection] = useState<Connection>({ state: "connecting" });
  const [notice, setNotice] = useState<{ event: HubEvent; at: Date } | null>(null);
  const [old, setOld] = useState(false);
  // The position to resume from is fixed at mount; later loader data must not reopen the socket.
  const [start] = useState(after);

  useEffect(() => {
    const hub = connectHub({
      url: window.location.origin,
      rooms: [{ room, after: start }],
      onEvent: (e) => {
        setNotice({ event: e.event, at: new Date() });
        setOld(false);
        if (busy.current) again.current = true;
        else {
          busy.current = true;
          revalidate();
        }
      },
      onJoined: () => setConnection({ state: "live" }),
      onError: (e) => {
        if (e.room) setConnection({ state: "refused", message: e.message });
        // A handshake refused by the server (e.g. signed out) is not retried; network failures are.
        else setConnection({ state: hub.socket.active ? "reconnecting" : "offline", message: e.message });
      },
    });
    hub.socket.on("disconnect", () => setConnection({ state: hub.socket.active ? "reconnecting" : "offline" }));
    return () => hub.close();
  }, [room, start, revalidate]);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setOld(true), 60_000);
    return () => clearTimeout(timer);
  }, [notice]);

  const shown = notice && !ignore?.(notice.event) ? notice : null;
  let text = "";
  if (shown) {
    const e = shown.event;
    const who = me && e.actor === me ? "you" : e.actor;
    const when = old ? `at ${shown.at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}` : "just now";
    const what = e.type === "vendor_fields.updated" ? "Vendor details updated" : "Updated";
    const about = subject?.(e);
    text = `${about ? `${about}: ${what.toLowerCase()}` : what} by ${who} ${when}: ${describeChanges(e)}`;
  }

  return (
    <div className="live-bar">
      <span className="live-indicator" data-state={connection.state} title={connection.message}>
        <span className="live-dot" aria-hidden="true" />
        {INDICATOR[connection.state]}
        {connection.state === "offline" || connection.state === "refused"
          ? `${connection.message ? `: ${connection.message}` : ""}. Reload the page to try again.`
          : null}
      </span>
      {/* Always in the page, so screen readers announce it when the text arrives. */}
      <p className="live-notice" role="status">
        {text}
      </p>
    </div>
  );
}
