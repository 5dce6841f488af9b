// One structured log line per request, with a request id echoed to the client.
// Only the path is logged: query strings can carry tokens (OAuth codes), and the
// secret in an iCal feed path is masked.
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
        { requestId, method: req.method, path: loggablePath(req.path), status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        "request",
      );
    });
    next();
  };
}

/** The feed URL is the credential: log only its last 4 characters (the hint the vendor sees). */
export const loggablePath = (path: string): string =>
  path.replace(/^\/calendar\/feeds\/.*?([^/]{0,4})(\.ics)?$/, "/calendar/feeds/[redacted]$1$2");
