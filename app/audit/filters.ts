// The audit console's filter fields and links, shared by the loader and the
// page in the browser (client-safe; parsing lives in query.server.ts).
export const ACTOR_TYPES = ["user", "api_token", "system"] as const;

export const FILTER_KEYS = ["actorType", "actor", "action", "entityType", "entityId", "from", "to"] as const;
export type FilterValues = Partial<Record<(typeof FILTER_KEYS)[number], string>>;

/** The query string of a filtered view, plus a cursor or page size (pager and export links). */
export function filterQuery(values: FilterValues, extra: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (values[k]) params.set(k, values[k]);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) params.set(k, String(v));
  const q = params.toString();
  return q ? `?${q}` : "";
}
