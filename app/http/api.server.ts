// The JSON API (/api/v1): routes come from API_ROUTES. Each request is
// authenticated (bearer API token), scope-checked and parsed with the route's
// zod schemas before its handler runs; errors map to status + message in one place.
import express, { type NextFunction, type Request, type Response } from "express";
import type { z } from "zod";
import type { HubContext } from "../runtime/context.server";
import { authenticateApiToken } from "../auth/api-tokens.server";
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError, toErrorResponse } from "../errors";
import { fieldErrorsOf } from "../auth/users.server";
import { principalFromToken } from "../core-fields/principal";
import { API_ROUTES, type ApiRoute } from "./api-routes.server";
import { buildOpenApiDocument } from "./openapi.server";

export function createApiRouter(ctx: HubContext, routes: ApiRoute[] = API_ROUTES): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: "256kb" }));
  const openApi = buildOpenApiDocument(routes);

  router.get("/openapi.json", (_req, res) => {
    res.json(openApi);
  });

  for (const route of routes) {
    router[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const header = req.get("authorization") ?? "";
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) throw new UnauthorizedError("Send an API token as 'Authorization: Bearer <token>'.");
        const token = await authenticateApiToken(ctx.db, match[1]!);
        if (!token)
          throw new UnauthorizedError("This API token is unknown or has been revoked. Create a new one in the console.");
        if (!token.scopes.includes(route.scope)) throw new ForbiddenError(`This API token lacks the "${route.scope}" scope.`);
        const params = parse("path", route.params, req.params);
        const query = parse("query", route.query, req.query);
        const body = route.body ? parse("body", route.body, req.body ?? {}) : undefined;
        const result = await route.handler(
          ctx,
          { params: params as Record<string, string>, query: query as Record<string, unknown>, body, headers: lowerHeaders(req) },
          principalFromToken(token),
        );
        res
          .status(result.status)
          .set(result.headers ?? {})
          .json(result.body);
      } catch (err) {
        next(err);
      }
    });
  }

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

function parse(where: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // A malformed id in the path is simply "not found".
  if (where === "path") throw new NotFoundError("Nothing here: the ids in this path are not valid UUIDs.");
  throw new ValidationError(`The request ${where} is invalid; nothing was changed.`, fieldErrorsOf(result.error));
}

function lowerHeaders(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
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
