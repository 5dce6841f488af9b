// Loopback helpers for the benches.
import net from "node:net";

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Poll `done` every `everyMs` until it is true or `timeoutMs` passes; returns whether it became true.
 * Throws the signal's reason as soon as `signal` is aborted.
 */
export async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 5, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    signal?.throwIfAborted();
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
