// Mapping files in mappings/<slug>/ (see mappings/README.md): read, validate, write.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { isTargetId, type TargetId } from "./targets";

export const mappingCaseSchema = z
  .object({
    description: z.string().optional(),
    input: z.unknown(),
    expected: z.unknown().optional(),
    expectedErrors: z.record(z.string(), z.array(z.string())).optional(),
  })
  .refine(
    (c) => (c.expected === undefined) !== (c.expectedErrors === undefined),
    "a case needs exactly one of expected or expectedErrors",
  );

export type MappingCase = z.infer<typeof mappingCaseSchema> & { name: string };

const metaSchema = z.object({
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be kebab-case"),
  name: z.string().min(1),
  source: z.object({ connector: z.string().min(1), object: z.string().min(1), description: z.string().optional() }),
  target: z.string().refine(isTargetId, "must be a known target (app/mapping/targets.ts)"),
});

export interface MappingFile {
  slug: string;
  name: string;
  source: { connector: string; object: string; description?: string };
  target: TargetId;
  expression: string;
  cases: MappingCase[];
}

export function defaultMappingsDir(): string {
  return path.resolve("mappings");
}

export function readMappingFiles(dir = defaultMappingsDir()): MappingFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "mapping.json")))
    .map((d) => readMappingFolder(path.join(dir, d.name)))
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

export function readMappingFolder(folder: string): MappingFile {
  const where = (f: string) => path.join(folder, f);
  const meta = metaSchema.safeParse(JSON.parse(fs.readFileSync(where("mapping.json"), "utf8")));
  if (!meta.success)
    throw new Error(`${where("mapping.json")}: ${meta.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  if (meta.data.slug !== path.basename(folder))
    throw new Error(`${where("mapping.json")}: slug "${meta.data.slug}" must equal the folder name`);
  const casesDir = where("cases");
  const cases = fs.existsSync(casesDir)
    ? fs
        .readdirSync(casesDir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => {
          const parsed = mappingCaseSchema.safeParse(JSON.parse(fs.readFileSync(path.join(casesDir, f), "utf8")));
          if (!parsed.success)
            throw new Error(`${path.join(casesDir, f)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
          return { ...parsed.data, name: f.replace(/\.json$/, "") };
        })
    : [];
  return {
    slug: meta.data.slug,
    name: meta.data.name,
    source: meta.data.source,
    target: meta.data.target as TargetId,
    expression: fs.readFileSync(where("expression.jsonata"), "utf8"),
    cases,
  };
}

export function writeMappingFolder(dir: string, m: MappingFile): void {
  const folder = path.join(dir, m.slug);
  fs.mkdirSync(path.join(folder, "cases"), { recursive: true });
  fs.writeFileSync(
    path.join(folder, "mapping.json"),
    JSON.stringify({ slug: m.slug, name: m.name, source: m.source, target: m.target }, null, 2) + "\n",
  );
  fs.writeFileSync(path.join(folder, "expression.jsonata"), m.expression.endsWith("\n") ? m.expression : m.expression + "\n");
  for (const c of m.cases) {
    const { name, ...body } = c;
    fs.writeFileSync(path.join(folder, "cases", `${name}.json`), JSON.stringify(body, null, 2) + "\n");
  }
}
