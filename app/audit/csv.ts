// RFC 4180 CSV, written by hand: the hub has no CSV dependency and needs only
// the writing side. Fields are quoted when they hold a comma, quote, CR or LF,
// with quotes doubled; records end in CRLF.

/**
 * One field. A leading = + - @ (or tab / CR) gets a ' so a spreadsheet shows
 * the text instead of running it as a formula: audit values (labels, JSON
 * from providers and people) are not ours to trust.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One record, CRLF-terminated. */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}
