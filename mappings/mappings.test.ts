// Every mapping in mappings/ must pass its cases: a broken case fails `npm test`.
import { describe, expect, it } from "vitest";
import { readMappingFiles } from "../app/mapping/files.server";
import { runCase } from "../app/mapping/cases";
import { compileMapping } from "../app/mapping/engine";

const files = readMappingFiles();

describe("mapping files", () => {
  it("exist, and each has at least two cases", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) expect(f.cases.length, f.slug).toBeGreaterThanOrEqual(2);
  });

  for (const file of files) {
    describe(file.slug, () => {
      it("compiles", () => {
        expect(() => compileMapping(file.expression)).not.toThrow();
      });
      for (const c of file.cases) {
        it(`case ${c.name}${c.description ? `: ${c.description}` : ""}`, async () => {
          const result = await runCase(file.expression, file.target, c);
          if (c.expectedErrors) expect(result.errors ?? {}).toEqual(c.expectedErrors);
          else {
            expect(result.errors ?? null, result.problem).toBeNull();
            expect(result.output).toEqual(c.expected);
          }
        });
      }
    });
  }
});
