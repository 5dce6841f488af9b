import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations into db/migrations from db/schema.ts (offline).
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
