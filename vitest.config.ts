import { defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  resolve: { alias: { "~": path.resolve(import.meta.dirname, "app") } },
  test: {
    include: ["test/**/*.test.ts", "mappings/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/setup-database.ts"],
    // A real PostgreSQL and real child processes: give slow machines room, never retry.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Files run in parallel, each on its own database; two at a time suits the
    // 2-core machines this runs on (many tests spawn hub processes of their own).
    maxWorkers: 2,
  },
});
