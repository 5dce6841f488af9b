// Sign-in, throttling, CSRF, roles and vendor isolation, through the real
// HTTP server (Express + Remix) on the real database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Database } from "../../app/db.server";
import { GENERIC_SIGN_IN_ERROR, MAX_FAILURES_PER_EMAIL } from "../../app/auth/sign-in.server";
import { CSRF_REFUSAL } from "../../app/auth/csrf.server";
import { FormClient } from "../helpers/form-client";
import { makeCouple, makeSupplier, makeUser, openTestDatabase, startTestHub } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
});
afterAll(async () => {
  await hub?.stop();
  await database?.close();
});

/** Remix escapes apostrophes etc. in HTML; compare on the unescaped text. */
const unescape = (html: string) =>
  html
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");

describe("staff sign-in", () => {
  it("signs in with the right password and lands in the console", async () => {
    const { email, password } = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    const res = await client.signIn(email, password);
    expect(res.status).toBe(302);
    expect(res.location).toBe("/console");
    expect(client.cookie("hub_session")).toBeTruthy();
    const page = await client.get("/console");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Dashboard");
  });

  it("answers the same generic error for a wrong password and for an unknown email", async () => {
    const { email } = await makeUser(database.db, "ops");
    const wrongPassword = await new FormClient(hub.url).signIn(email, "not-the-password");
    const unknownEmail = await new FormClient(hub.url).signIn("nobody-here@test.example", "whatever-password");
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(unescape(wrongPassword.text)).toContain(GENERIC_SIGN_IN_ERROR);
    expect(unescape(unknownEmail.text)).toContain(GENERIC_SIGN_IN_ERROR);
    expect(wrongPassword.text).not.toMatch(/no such user|unknown email|not found/i);
  });

  it("throttles 10 rapid failures, and then refuses even the right password", async () => {
    const { email, password } = await makeUser(database.db, "integration");
    const client = new FormClient(hub.url);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await client.signIn(email, `wrong-${i}`)).status);
    expect(statuses.slice(0, MAX_FAILURES_PER_EMAIL)).toEqual(Array(MAX_FAILURES_PER_EMAIL).fill(401));
    expect(statuses.slice(MAX_FAILURES_PER_EMAIL)).toEqual(Array(10 - MAX_FAILURES_PER_EMAIL).fill(429));
    const right = await client.signIn(email, password);
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(unescape(right.text)).toContain("Too many failed sign-in attempts");
    expect(client.cookie("hub_session")).toBeUndefined();
  });

  it("signs out: the old session cookie stops working", async () => {
    const { email, password } = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const session = client.cookie("hub_session")!;
    await client.get("/console");
    const out = await client.post("/logout", {});
    expect(out.status).toBe(302);
    expect(out.location).toBe("/login");
    const replay = new FormClient(hub.url);
    replay.setCookie("hub_session", session);
    const page = await replay.get("/console");
    expect(page.status).toBe(302);
    expect(page.location).toMatch(/^\/login/);
  });

  it("sends anonymous visitors to the sign-in page", async () => {
    const page = await new FormClient(hub.url).get("/console/couples");
    expect(page.status).toBe(302);
    expect(page.location).toBe("/login?next=%2Fconsole%2Fcouples");
  });
});

describe("CSRF", () => {
  it("refuses a sign-in POST without the token with 403 and creates no session", async () => {
    const { email, password } = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    await client.get("/login");
    const res = await client.post("/login", { email, password }, { withCsrf: false });
    expect(res.status).toBe(403);
    expect(unescape(res.text)).toContain(CSRF_REFUSAL);
    expect(client.cookie("hub_session")).toBeUndefined();
  });

  it("refuses a signed-in mutating POST without the token, and with another browser's token", async () => {
    const { email, password } = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    await client.get("/console");
    const before = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'diagnostics_ping'`,
    );
    const missing = await client.post("/console?index", {}, { withCsrf: false });
    expect(missing.status).toBe(403);
    const other = new FormClient(hub.url);
    await other.get("/login");
    const foreign = await client.post("/console?index", { _csrf: other.csrf! }, { withCsrf: false });
    expect(foreign.status).toBe(403);
    const logout = await client.post("/logout", {}, { withCsrf: false });
    expect(logout.status).toBe(403);
    const after = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'diagnostics_ping'`,
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    // ...while the same form with its token works.
    const ok = await client.post("/console?index", {});
    expect(ok.status).toBe(200);
  });
});

describe("roles", () => {
  it("lets admin and ops queue a diagnostic job, and refuses integration staff with 403", async () => {
    const integration = await makeUser(database.db, "integration");
    const client = new FormClient(hub.url);
    await client.signIn(integration.email, integration.password);
    await client.get("/console");
    const res = await client.post("/console?index", {});
    expect(res.status).toBe(403);
    expect(res.text).toContain("This needs the admin or ops role");
    const audit = await client.get("/console/audit");
    expect(audit.status).toBe(403);
  });
});

describe("vendor isolation", () => {
  it("shows a vendor only its own couples; another vendor's couple is 404, and so is the console", async () => {
    const a = await makeSupplier(database.db);
    const b = await makeSupplier(database.db);
    const coupleOfA = await makeCouple(database.db, [a.id], { venueName: "A's venue" });
    const coupleOfB = await makeCouple(database.db, [b.id], { venueName: "B's venue" });
    const vendorA = await makeUser(database.db, "vendor", a.id);

    const client = new FormClient(hub.url);
    const signIn = await client.signIn(vendorA.email, vendorA.password);
    expect(signIn.location).toBe("/vendor");

    const home = await client.get("/vendor");
    expect(home.status).toBe(200);
    expect(home.text).toContain(coupleOfA);
    expect(home.text).not.toContain(coupleOfB);

    expect((await client.get(`/vendor/couples/${coupleOfA}`)).status).toBe(200);
    const foreign = await client.get(`/vendor/couples/${coupleOfB}`);
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain("B&#x27;s venue");
    expect(foreign.text).not.toContain("B's venue");
    expect((await client.get(`/vendor/couples/not-a-uuid`)).status).toBe(404);
    expect((await client.get("/console")).status).toBe(404);
    expect((await client.get(`/console/couples/${coupleOfB}`)).status).toBe(404);
  });

  it("keeps staff out of the vendor area (404)", async () => {
    const admin = await makeUser(database.db, "admin");
    const client = new FormClient(hub.url);
    await client.signIn(admin.email, admin.password);
    expect((await client.get("/vendor")).status).toBe(404);
  });
});
