// The consistency checker's invariants, as words for the console, and where
// each kind of item has a page. Client-safe (no server imports), shared by the
// checker (app/ops/consistency.server.ts) and /console/consistency.
export const INVARIANTS = {
  core_fields_version: {
    label: "Core-field version",
    rule: "A couple's current version equals the version of its last stored version and of its last core-field event.",
  },
  core_fields_last_seq: {
    label: "Last event sequence",
    rule: "A couple's last_seq equals the highest sequence number of its events.",
  },
  event_seq_gap: {
    label: "Event sequence gap",
    rule: "Every sequence number from 1 to the couple's last_seq has its event.",
  },
  calendar_event_missing: {
    label: "Calendar event missing",
    rule: "A sampled calendar mapping points at an event the provider still has.",
  },
  stuck_webhook_delivery: {
    label: "Stuck webhook delivery",
    rule: "A waiting webhook delivery past its time (plus the grace period) has a job that will send or process it.",
  },
  stuck_message: {
    label: "Stuck message",
    rule: "A queued or sending message past its time (plus the grace period) has a job that will deliver it.",
  },
  stuck_import_run: {
    label: "Stuck import run",
    rule: "A queued or running import past its start (plus the grace period) has a job that will run it.",
  },
} as const satisfies Record<string, { label: string; rule: string }>;

export type Invariant = keyof typeof INVARIANTS;
export const INVARIANT_IDS = Object.keys(INVARIANTS) as Invariant[];

export const invariantLabel = (id: string): string => (INVARIANTS as Record<string, { label: string }>)[id]?.label ?? id;

const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

/** The console page that shows a finding's item, when there is one. */
export function findingHref(entityType: string, entityId: string, detail: Record<string, unknown>): string | null {
  switch (entityType) {
    case "couple":
      return `/console/couples/${encodeURIComponent(entityId)}`;
    case "message":
      return `/console/messages/${encodeURIComponent(entityId)}`;
    case "sync_run":
      return `/console/imports/${encodeURIComponent(entityId)}`;
    case "calendar_event":
      return "/console/calendars";
    case "webhook_delivery": {
      const endpoint = str(detail.endpointId);
      if (!endpoint) return null;
      return detail.direction === "in"
        ? `/console/webhooks/in/${encodeURIComponent(endpoint)}`
        : `/console/webhooks/out/${encodeURIComponent(endpoint)}`;
    }
    default:
      return null;
  }
}
