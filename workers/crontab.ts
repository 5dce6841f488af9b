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
  // Invariants (event log, calendar mappings, stuck work) for the data-inconsistency KPI. Same queue and job key as
  // the console's "run now": runs never overlap, and a slot that finds one waiting adds nothing.
  "*/5 * * * * check_consistency ?max=1&queue=consistency&jobKey=consistency:check&jobKeyMode=preserve_run_at",
  // Wedding-day mode: refresh tokens and re-verify calendars of every wedding within 48 hours, ahead of need.
  "*/10 * * * * prewarm_wedding_days ?max=1&jobKey=wedding-day:prewarm&jobKeyMode=preserve_run_at",
].join("\n");
