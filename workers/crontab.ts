// Recurring work, in graphile-worker's crontab format (UTC). Each line's task
// must be in the task list; graphile-worker makes sure one run per slot, even
// with many worker processes.
export const CRONTAB = [
  // Polling safety net for calendars without (or between) push channels: pull every connection's changes.
  "*/15 * * * * calendar_sweep ?max=1",
  // Incremental CRM imports: every connection that has imported before, hourly (unchanged records write nothing).
  "7 * * * * import_schedule ?max=1",
  // Runs whose worker died: resumed once their job is gone or its lock is 30 minutes old.
  "*/10 * * * * import_sweep ?max=1",
].join("\n");
