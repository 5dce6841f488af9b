// Source fields for the editor's left side, inferred from sample payloads:
// nested objects become dotted paths (JSONata's own path syntax), arrays are
// marked so the editor can show that a path maps over every item.
export interface SourceField {
  path: string;
  type: "string" | "number" | "boolean" | "object" | "array" | "null";
  inArray: boolean;
  example?: unknown;
}

export function inferSourceFields(samples: unknown[]): SourceField[] {
  const fields = new Map<string, SourceField>();
  const visit = (value: unknown, path: string, inArray: boolean) => {
    if (Array.isArray(value)) {
      if (path) note(path, "array", inArray, undefined);
      for (const item of value.slice(0, 20)) visit(item, path, true);
      return;
    }
    if (value !== null && typeof value === "object") {
      if (path) note(path, "object", inArray, undefined);
      for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k, inArray);
      return;
    }
    if (path) note(path, value === null ? "null" : (typeof value as "string" | "number" | "boolean"), inArray, value);
  };
  const note = (path: string, type: SourceField["type"], inArray: boolean, example: unknown) => {
    const existing = fields.get(path);
    if (!existing || existing.type === "null")
      fields.set(path, { path, type, inArray: inArray || Boolean(existing?.inArray), example });
  };
  for (const s of samples) visit(s, "", false);
  return [...fields.values()].sort((a, b) => a.path.localeCompare(b.path));
}
