// POST /webhooks/in/:endpointId — mounted on Express BEFORE any body parser,
// because verification needs the raw bytes exactly as sent. The handler only
// adapts Express to receiveInbound (receive.server.ts), which holds the logic.
import express, { type Request, type Response } from "express";
import type { HubContext } from "../../runtime/context.server";
import { receiveInbound, type InboundAnswer } from "./receive.server";
import type { Headers } from "./schemes";

/** Read at most `limit` bytes; null (and stop buffering) as soon as the body is larger. */
export function readLimited(req: Request, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: Buffer | null) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the answer closes the connection, so the rest is never read into memory.
        req.pause();
        finish(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => finish(Buffer.concat(chunks, size)));
    req.once("error", (err) => {
      if (!settled) reject(err);
    });
  });
}

function lowerHeaders(req: Request): Headers {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function send(res: Response, answer: InboundAnswer): void {
  res.status(answer.status).set(answer.headers);
  if (answer.close) res.set("Connection", "close");
  if (answer.text !== undefined) res.send(answer.text);
  else res.json(answer.json ?? {});
}

export function createInboundWebhookRouter(ctx: HubContext): express.Router {
  const router = express.Router();
  router.post("/webhooks/in/:endpointId", async (req: Request, res: Response) => {
    try {
      const q = req.originalUrl.indexOf("?");
      const answer = await receiveInbound(ctx, {
        endpointRef: String(req.params.endpointId ?? ""),
        headers: lowerHeaders(req),
        search: q >= 0 ? req.originalUrl.slice(q) : "",
        readBody: (limit) => readLimited(req, limit),
      });
      send(res, answer);
    } catch (err) {
      ctx.log.error({ err, endpointRef: req.params.endpointId }, "inbound webhook failed");
      // Nothing was acknowledged: the sender retries, which is what we want after a 5xx.
      if (!res.headersSent)
        res.status(500).json({ error: { code: "internal", message: "The hub could not store this delivery; retry later." } });
    }
  });
  return router;
}
