// One structured log line per request, with a request id echoed to the client.
// Only the path is logged: query strings can carry tokens (OAuth codes, feed secrets).
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log.server";

export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = req.get("x-request-id")?.slice(0, 100) || randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (req.path.startsWith("/build/") || req.path === "/healthz") return;
      log.info(
        { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        "request",
      );
    });
    next();
  };
}
