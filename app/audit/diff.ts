// Before and after of an audit entry as a list of changed paths, for the
// console (client-safe: no server imports). Nested objects are walked to
// dot paths; arrays and scalars are compared whole (as canonical JSON).
export interface DiffLine {
  /** Dot path into the value ("" when the whole value is a scalar). */
  path: string;
  change: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

const MAX_DEPTH = 4;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so {a,b} and {b,a} compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

export function auditDiff(before: unknown, after: unknown): DiffLine[] {
  const out: DiffLine[] = [];
  const walk = (b: unknown, a: unknown, path: string, depth: number) => {
    if (b === undefined && a === undefined) return;
    // Objects on both sides (or on one, the other absent: created or deleted) list their fields.
    const objectish = (v: unknown) => v === undefined || isPlainObject(v);
    if (depth < MAX_DEPTH && objectish(b) && objectish(a)) {
      const bo = isPlainObject(b) ? b : {};
      const ao = isPlainObject(a) ? a : {};
      for (const key of [...new Set([...Object.keys(bo), ...Object.keys(ao)])].sort())
        walk(bo[key], ao[key], path ? `${path}.${key}` : key, depth + 1);
      return;
    }
    if (b === undefined) out.push({ path, change: "added", after: a });
    else if (a === undefined) out.push({ path, change: "removed", before: b });
    else if (canonical(b) !== canonical(a)) out.push({ path, change: "changed", before: b, after: a });
  };
  // A missing before/after is stored as SQL null; inside the values null is a value (a cleared field).
  walk(before ?? undefined, after ?? undefined, "", 0);
  return out;
}

/** A value as the console shows it: strings bare, everything else as JSON, long ones cut. */
export function showValue(v: unknown, max = 200): string {
  const text = typeof v === "string" ? v : (JSON.stringify(v) ?? "null");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
