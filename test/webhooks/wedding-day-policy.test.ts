// The brief's wedding-day call policy for outbound webhooks: a connection that
// fails (reset before any answer) is reconnected up to 10 times within the
// attempt, and the first five retries come within a minute instead of the
// normal hours. Outside wedding-day mode neither applies.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhooksOutConfig } from "../../app/webhooks/outbound/config";
import { dispatcherFor } from "../../app/webhooks/outbound/http.server";
import { postWithPolicy, retryDelayFor, WEDDING_DAY_RETRY_MS } from "../../app/webhooks/outbound/deliver.server";

const cfg = { ...webhooksOutConfig("sandbox", {}), jitter: 0 };
let server: http.Server;
let url: string;
let resetsLeft = 0;
let received = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (resetsLeft > 0) {
      resetsLeft--;
      req.socket.destroy(); // the connection dies before any answer: nothing was processed
      return;
    }
    received++;
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe("wedding-day policy for outbound webhooks", () => {
  it("reconnects within the attempt after connection resets, and the receiver gets it once", async () => {
    resetsLeft = 3;
    received = 0;
    const result = await postWithPolicy(dispatcherFor(cfg), cfg, url, {}, "{}", true);
    expect(result).toMatchObject({ outcome: "succeeded", httpStatus: 204, reconnects: 3 });
    expect(received).toBe(1);
  });

  it("outside wedding-day mode a reset is a failed attempt, left to the retry schedule", async () => {
    resetsLeft = 1;
    received = 0;
    const result = await postWithPolicy(dispatcherFor(cfg), cfg, url, {}, "{}", false);
    expect(result).toMatchObject({ outcome: "failed", connectionFailed: true, reconnects: 0 });
    expect(received).toBe(0);
  });

  it("gives up after ten reconnects and says so", async () => {
    resetsLeft = 100;
    const result = await postWithPolicy(dispatcherFor(cfg), cfg, url, {}, "{}", true);
    expect(result.outcome).toBe("failed");
    expect(result.reconnects).toBe(10);
    expect(result.error).toMatch(/after 10 reconnects/);
    resetsLeft = 0;
  });

  it("caps the first five retries of a wedding-day delivery, then follows the normal schedule", () => {
    const normal = [1, 2, 3, 4, 5, 6].map((round) => retryDelayFor(cfg, round, false));
    const weddingDay = [1, 2, 3, 4, 5, 6].map((round) => retryDelayFor(cfg, round, true));
    expect(normal).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
    expect(weddingDay).toEqual([...WEDDING_DAY_RETRY_MS.map((ms, i) => Math.min(ms, normal[i]!)), 36_000_000]);
    // The end of the schedule stays the end: no retries are invented.
    expect(retryDelayFor(cfg, 8, true)).toBeNull();
  });
});
