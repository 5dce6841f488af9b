// The JSON API (/api/v1). Thin handlers: authenticate, parse, call a domain function.
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { authenticateApiToken, type ApiPrincipal } from "../auth/api-tokens.server";
import { ForbiddenError, UnauthorizedError, ValidationError, toErrorResponse } from "../errors";
import { queueDiagnosticPings } from "../diagnostics/ping.server";
import { fieldErrorsOf } from "../auth/users.server";

type Handler = (req: Request, res: Response, principal: ApiPrincipal) => Promise<void>;

export function createApiRouter(ctx: HubContext): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: "256kb" }));

  /** Wraps a handler with bearer authentication, scope checks and the one error mapping. */
  const route =
    (scope: string, handler: Handler) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        const header = req.get("authorization") ?? "";
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) throw new UnauthorizedError("Send an API token as 'Authorization: Bearer <token>'.");
        const principal = await authenticateApiToken(ctx.db, match[1]!);
        if (!principal)
          throw new UnauthorizedError("This API token is unknown or has been revoked. Create a new one in the console.");
        if (!principal.scopes.includes(scope)) throw new ForbiddenError(`This API token lacks the "${scope}" scope.`);
        await handler(req, res, principal);
      } catch (err) {
        next(err);
      }
    };

  const pingBody = z.object({
    count: z.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(1),
  });

  router.post(
    "/diagnostics/ping",
    route("ops", async (req, res) => {
      const parsed = pingBody.safeParse(req.body ?? {});
      if (!parsed.success) throw new ValidationError("Invalid ping request", fieldErrorsOf(parsed.error));
      const keys = await ctx.db.transaction((tx) => queueDiagnosticPings(tx, parsed.data.count));
      res.status(202).json({ queued: keys.length, keys });
    }),
  );

  router.use((req, res) => {
    res
      .status(404)
      .json({ error: { code: "not_found", message: `No API route ${req.method} ${req.path}. See /api/v1/openapi.json.` } });
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const parserError = bodyParserError(err);
    if (parserError) {
      res.status(parserError.status).json({ error: { code: "bad_request", message: parserError.message } });
      return;
    }
    const mapped = toErrorResponse(err);
    if (mapped.status >= 500) ctx.log.error({ err }, "api error");
    res.status(mapped.status).set(mapped.headers).json(mapped.body);
  });

  return router;
}

/** express.json() failures carry a `type`; turn them into messages a client developer can act on. */
function bodyParserError(err: unknown): { status: number; message: string } | null {
  if (typeof err !== "object" || err === null || !("type" in err)) return null;
  switch ((err as { type: unknown }).type) {
    case "entity.parse.failed":
      return { status: 400, message: "The request body is not valid JSON." };
    case "entity.too.large":
      return { status: 413, message: "The request body is too large (limit 256 KB)." };
    case "encoding.unsupported":
    case "charset.unsupported":
      return { status: 415, message: "Send the body as UTF-8 JSON." };
    default:
      return null;
  }
}
