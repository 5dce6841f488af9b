// Socket.IO shares the web server's port; clients authenticate in the handshake.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connect, type Socket } from "socket.io-client";
import type { Database } from "../../app/db.server";
import { createApiToken } from "../../app/auth/api-tokens.server";
import { FormClient } from "../helpers/form-client";
import { makeUser, openTestDatabase, startTestHub, testActor } from "../helpers/hub";

let hub: Awaited<ReturnType<typeof startTestHub>>;
let database: Database;
const sockets: Socket[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  database = openTestDatabase();
});
afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  await hub?.stop();
  await database?.close();
});

function open(opts: Parameters<typeof connect>[1]): Promise<{ ok: true; socket: Socket } | { ok: false; message: string }> {
  const socket = connect(hub.url, { transports: ["websocket"], reconnection: false, ...opts });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ ok: true, socket }));
    socket.once("connect_error", (err) => resolve({ ok: false, message: err.message }));
  });
}

describe("realtime handshake", () => {
  it("refuses a client without credentials or with a bad token", async () => {
    const none = await open({});
    expect(none).toEqual({ ok: false, message: expect.stringContaining("unauthorized") });
    const bad = await open({ auth: { token: "whub_x_nope" } });
    expect(bad).toEqual({ ok: false, message: expect.stringContaining("unauthorized") });
  });

  it("accepts an API token and a console session cookie", async () => {
    const { token } = await createApiToken(database.db, { name: "socket", kind: "wedsync", scopes: ["events:read"] }, testActor);
    expect((await open({ auth: { token } })).ok).toBe(true);

    const { email, password } = await makeUser(database.db, "ops");
    const client = new FormClient(hub.url);
    await client.signIn(email, password);
    const cookie = `hub_session=${client.cookie("hub_session")}`;
    expect((await open({ extraHeaders: { cookie } })).ok).toBe(true);
  });
});
