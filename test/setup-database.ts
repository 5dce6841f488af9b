// Each test file gets its own database, cloned from the run's migrated
// template: a file's in-process workers, sweeps and leftover jobs can never
// touch another file's data, so files may run in parallel.
import crypto from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";

const serverUrl = inject("databaseServerUrl");
const template = inject("databaseTemplate");
const name = `${template}_f${crypto.randomBytes(4).toString("hex")}`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Two files cloning at the same instant can briefly see each other on the template: retry.
for (let attempt = 1; ; attempt++) {
  try {
    await admin((c) => c.query(`create database "${name}" template "${template}"`));
    break;
  } catch (err) {
    if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}

const url = new URL(serverUrl);
url.pathname = `/${name}`;
process.env.HUB_TEST_DATABASE_URL = url.toString();

afterAll(async () => {
  await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
});
