// Live import progress in the console: one Socket.IO connection over the
// console session (staff sockets are in `ops`, which gets every run's
// `import:progress`), a progress bar per run, rate and ETA computed here from
// the samples seen since the page opened. The socket only exists in the browser.
import { useEffect, useState } from "react";
import { useRevalidator } from "@remix-run/react";
import { connectHub } from "./hub-socket.client";
import {
  formatDuration,
  IMPORT_PROGRESS_EVENT,
  importProgressSchema,
  percentOf,
  rateAndEta,
  type ImportProgress,
  type ProgressSample,
} from "~/import/progress";

export interface RunProgress {
  done: number;
  total: number | null;
  status: string;
  counts?: ImportProgress["counts"];
  first: ProgressSample | null;
  latest: ProgressSample | null;
}

type Connection = "connecting" | "live" | "offline";

/** Progress of every run announced while the page is open, by run id; the page revalidates when a run finishes. */
export function useImportProgress(): { runs: Record<string, RunProgress>; connection: Connection } {
  const { revalidate } = useRevalidator();
  const [runs, setRuns] = useState<Record<string, RunProgress>>({});
  const [connection, setConnection] = useState<Connection>("connecting");

  useEffect(() => {
    const hub = connectHub({
      url: window.location.origin,
      rooms: [],
      onEvent: () => undefined,
      onError: () => setConnection(hub.socket.active ? "connecting" : "offline"),
    });
    hub.socket.on("connect", () => {
      setConnection("live");
      // Whatever finished between the page load and this (re)connect was announced to nobody: read it again.
      revalidate();
    });
    hub.socket.on("disconnect", () => setConnection(hub.socket.active ? "connecting" : "offline"));
    hub.socket.on(IMPORT_PROGRESS_EVENT, (raw: unknown) => {
      const parsed = importProgressSchema.safeParse(raw);
      if (!parsed.success) return;
      const p = parsed.data;
      const at = Date.now();
      setRuns((prev) => {
        const before = prev[p.runId];
        const done = p.done ?? before?.done ?? 0;
        const sample = { at, done };
        return {
          ...prev,
          [p.runId]: {
            done,
            total: p.total !== undefined ? p.total : (before?.total ?? null),
            status: p.status ?? before?.status ?? "running",
            counts: p.counts ?? before?.counts,
            first: before?.first ?? sample,
            latest: sample,
          },
        };
      });
      if (p.status && p.status !== "running" && p.status !== "queued") revalidate();
    });
    return () => hub.close();
  }, [revalidate]);

  return { runs, connection };
}

export interface ProgressBarProps {
  runId: string;
  /** What the loader read; live messages take over once they arrive. */
  initial: { done: number; total: number | null; status: string };
  live: RunProgress | undefined;
  label: string;
}

export function ImportProgressBar({ runId, initial, live, label }: ProgressBarProps) {
  const done = live ? Math.max(live.done, initial.done) : initial.done;
  const total = live?.total ?? initial.total;
  const status = live?.status ?? initial.status;
  const percent = status === "succeeded" ? 100 : percentOf(done, total);
  const { perSecond, etaSeconds } = rateAndEta(live?.first ?? null, live?.latest ?? null, total);
  const going = status === "running" || status === "queued";
  return (
    <div className="import-progress" data-import-progress={runId} data-status={status} data-percent={percent ?? ""}>
      <progress max={100} value={percent ?? undefined} aria-label={label}>
        {percent === null ? "" : `${percent}%`}
      </progress>{" "}
      <span data-progress-text>
        {`${total === null ? `${done} records` : `${done} of ${total} records`}${percent === null ? "" : ` (${percent}%)`}`}
      </span>
      {going && perSecond !== null ? (
        <span className="muted">
          {" "}
          · {perSecond >= 10 ? Math.round(perSecond) : perSecond.toFixed(1)} records/s
          {etaSeconds !== null ? ` · about ${formatDuration(etaSeconds)} left` : ""}
        </span>
      ) : null}
    </div>
  );
}

export function LiveIndicator({ connection }: { connection: Connection }) {
  const text =
    connection === "live"
      ? "Live progress"
      : connection === "connecting"
        ? "Connecting to live progress…"
        : "Live progress off: reload the page to see the latest.";
  return (
    <p
      className="live-indicator"
      data-state={connection === "live" ? "live" : connection === "offline" ? "offline" : "connecting"}
    >
      <span className="live-dot" aria-hidden="true" />
      {text}
    </p>
  );
}
