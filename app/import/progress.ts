// The `import:progress` Socket.IO message (server and browser share this file:
// no server imports here) and the rate / ETA arithmetic the console shows.
import { z } from "zod";

export const IMPORT_PROGRESS_EVENT = "import:progress";

const countsSchema = z.object({
  new: z.number().int().min(0),
  updated: z.number().int().min(0),
  unchanged: z.number().int().min(0),
  failed: z.number().int().min(0),
});

/** What the engine NOTIFYs on hub_import_progress (a failed run sends only runId and status). */
export const importProgressSchema = z.object({
  runId: z.uuid(),
  supplierId: z.uuid().nullable().optional(),
  done: z.number().int().min(0).optional(),
  total: z.number().int().min(0).nullable().optional(),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]).optional(),
  counts: countsSchema.optional(),
});
export type ImportProgress = z.infer<typeof importProgressSchema>;

export interface ProgressSample {
  at: number;
  done: number;
}

/**
 * Records per second between the first sample seen and the latest, and the
 * seconds left at that rate. Null until two samples with progress between them.
 */
export function rateAndEta(
  first: ProgressSample | null,
  latest: ProgressSample | null,
  total: number | null,
): { perSecond: number | null; etaSeconds: number | null } {
  if (!first || !latest || latest.at <= first.at || latest.done <= first.done) return { perSecond: null, etaSeconds: null };
  const perSecond = ((latest.done - first.done) * 1000) / (latest.at - first.at);
  const etaSeconds = total === null ? null : Math.max(0, Math.ceil((total - latest.done) / perSecond));
  return { perSecond, etaSeconds };
}

/** "1 h 4 min", "3 min 20 s", "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

export function percentOf(done: number, total: number | null): number | null {
  if (total === null) return null;
  if (total === 0) return 100;
  return Math.min(100, Math.floor((done * 100) / total));
}
