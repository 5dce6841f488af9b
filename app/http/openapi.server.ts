// The OpenAPI 3.1 document, generated from API_ROUTES and their zod schemas
// (OpenAPI 3.1 speaks JSON Schema 2020-12, which is what zod emits).
import { z } from "zod";
import type { ApiRoute } from "./api-routes.server";

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Json;
  return rest;
}

/** `/couples/:coupleId/events` -> `/couples/{coupleId}/events` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z]+)/g, "{$1}");
}

export function buildOpenApiDocument(routes: ApiRoute[], serverUrl = "/api/v1"): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const parameters: Json[] = [];
    for (const [where, obj] of [
      ["path", r.params],
      ["query", r.query],
    ] as const) {
      if (!obj) continue;
      for (const [name, prop] of Object.entries(obj.shape)) {
        const schema = schemaOf(prop as z.ZodType, "input");
        parameters.push({
          name,
          in: where,
          required: where === "path" || !(prop as z.ZodType).safeParse(undefined).success,
          schema,
        });
      }
    }
    for (const h of r.headers ?? [])
      parameters.push({ name: h.name, in: "header", required: false, description: h.description, schema: { type: "string" } });

    const responses: Json = {};
    for (const [status, resp] of Object.entries(r.responses)) {
      responses[status] = {
        description: resp.description,
        ...(resp.schema ? { content: { "application/json": { schema: schemaOf(resp.schema, "output") } } } : {}),
        ...(resp.headers ? { headers: Object.fromEntries(resp.headers.map((h) => [h, { schema: { type: "string" } }])) } : {}),
      };
    }
    (paths[openApiPath(r.path)] ??= {})[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      description: `Needs an API token with the "${r.scope}" scope.`,
      security: [{ bearerToken: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { "application/json": { schema: schemaOf(r.body, "input") } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "WedSync Integration Hub API",
      version: "1.0.0",
      description:
        "Core fields shared by WedMe and WedSync, with optimistic concurrency and ordered change events. Realtime: Socket.IO on the same host (see README).",
    },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearerToken: { type: "http", scheme: "bearer", description: "whub_… API token" } } },
    paths,
  };
}
