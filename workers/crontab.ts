// Recurring work, in graphile-worker's crontab format (UTC). Each line's task
// must be in the task list; graphile-worker makes sure one run per slot, even
// with many worker processes.
export const CRONTAB = [
  // Polling safety net for calendars without (or between) push channels: pull every connection's changes.
  "*/15 * * * * calendar_sweep ?max=1",
].join("\n");
