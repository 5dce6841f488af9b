import { defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  resolve: { alias: { "~": path.resolve(import.meta.dirname, "app") } },
  test: {
    include: ["test/**/*.test.ts", "mappings/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // A real PostgreSQL and real child processes: give slow machines room, never retry.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One test file at a time: files share one database, and a file's in-process worker would
    // otherwise take another file's jobs (different keys, different simulators). Per-file databases
    // would allow parallel files again.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
