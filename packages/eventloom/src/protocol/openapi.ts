import { z } from "zod";
import {
  COMPONENTS,
  error,
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_RESPONSES,
  type Json,
  type JsonObject,
  ROUTE_DOCS,
  type RouteDoc,
  ref,
} from "./route-docs.js";
import { type OperationId, ROUTES } from "./routes.js";
import { wireRegistry } from "./wire.js";

/** An OpenAPI 3.1 document (loosely typed: it is data to serve, not to program against). */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  /** Only when the server is mounted under a base path: its one entry is that path. */
  servers?: { url: string }[];
  /** Bearer auth; it only applies when the server is configured with a token. */
  security: Json[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes: Record<string, JsonObject> };
}

export interface OpenApiOptions {
  /** Default "Workflows server". */
  title?: string;
  /** Default "1.0.0". */
  version?: string;
  /** The server's `basePath` (`""` or missing: none); the paths are relative to it. */
  basePath?: string;
}

// One z.toJSONSchema pass over the wire registry gives every named schema, cross-referenced.
function componentSchemas(): Record<string, JsonObject> {
  const out = z.toJSONSchema(wireRegistry, {
    metadata: wireRegistry,
    uri: (id) => `${COMPONENTS}${id}`,
    // the input side: no `additionalProperties: false`, since readers ignore fields they do not know
    io: "input",
    unrepresentable: "any",
  }) as { schemas: Record<string, JsonObject> };
  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema;
    schemas[id] = rest;
  }
  return schemas;
}

// A standalone schema (a query parameter's) whose named parts point into components, not $defs.
function inlineSchema(schema: z.ZodType): JsonObject {
  const out = z.toJSONSchema(schema, {
    metadata: wireRegistry,
    io: "input",
    unrepresentable: "any",
  }) as JsonObject;
  const { $schema: _s, $defs: _d, ...rest } = out;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as JsonObject;
}

function queryParameters(schema: z.ZodObject): JsonObject[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = field as z.ZodType;
    const json = inlineSchema(fieldSchema);
    const { description, ...rest } = json;
    const parameter: JsonObject = {
      name,
      in: "query",
      required: !fieldSchema.safeParse(undefined).success,
      schema: rest,
    };
    if (typeof description === "string") parameter["description"] = description;
    if (rest["type"] === "array") {
      parameter["style"] = "form";
      parameter["explode"] = true;
    }
    return parameter;
  });
}

/** The path parameters' descriptions, by the name of their slot in routes.ts's templates. */
const PATH_PARAMETERS: Record<string, string> = {
  name: "A registered workflow's name.",
  handler_id: "A handler's id.",
};

const pathParameters = (template: string): JsonObject[] =>
  [...template.matchAll(/\{([^}]+)\}/g)].map(([, name = ""]) => ({
    name,
    in: "path",
    required: true,
    description: PATH_PARAMETERS[name] ?? name,
    schema: { type: "string" },
  }));

const authErrors: JsonObject = {
  "401": error("A token is configured and the request has none or a wrong one."),
};
/** Every route, the debugger's files too, checks the Host header first (DNS rebinding). */
const hostErrors: JsonObject = {
  "403": error(
    "The `Host` is not localhost, an IP literal or a name in `allowedHosts` / WORKFLOWS_ALLOWED_HOSTS " +
      "(HOST_NOT_ALLOWED).",
  ),
};
/** Every POST takes JSON only: a form or text/plain post (no CORS preflight) is refused. */
const postErrors: JsonObject = {
  "415": error(
    "The Content-Type is not application/json, or a body-less POST from another origin has none " +
      "(UNSUPPORTED_MEDIA_TYPE).",
  ),
};
/** A replayed answer says so. */
const REPLAYED_HEADER: JsonObject = {
  "Idempotent-Replayed": {
    description: "`true` on the answer to a request sent again with an Idempotency-Key already used.",
    schema: { type: "string", enum: ["true"] },
  },
};

/** One route's operation object: its table row (routes.ts) with its schemas (route-docs.ts). */
function operation(id: OperationId, doc: RouteDoc): JsonObject {
  const { path, auth, method } = ROUTES[id];
  const responses: JsonObject = {
    ...doc.responses,
    ...(auth ? authErrors : {}),
    ...hostErrors,
    ...(method === "POST" ? postErrors : {}),
    ...(doc.idempotent ? IDEMPOTENCY_RESPONSES : {}),
  };
  const ok = responses["200"];
  if (doc.idempotent && ok && typeof ok === "object" && !Array.isArray(ok)) {
    responses["200"] = { ...ok, headers: REPLAYED_HEADER };
  }
  const out: JsonObject = { operationId: id, summary: doc.summary, responses };
  const parameters = [
    ...pathParameters(path),
    ...(doc.query ? queryParameters(doc.query) : []),
    ...(doc.headers ?? []),
    ...(doc.idempotent ? [IDEMPOTENCY_HEADER] : []),
  ];
  if (parameters.length > 0) out["parameters"] = parameters;
  if (doc.body) {
    out["requestBody"] = {
      required: doc.body.required,
      content: { "application/json": { schema: ref(doc.body.schema) } },
    };
  }
  if (!auth) out["security"] = [];
  return out;
}

/**
 * The OpenAPI 3.1 document of every endpoint of the HTTP contract: the routes of routes.ts, with the
 * same zod schemas that validate the wire.
 *
 * @example
 * const doc = buildOpenApiDocument({ title: "My workflows", version: "1.2.0" });
 */
export function buildOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const id of Object.keys(ROUTES) as OperationId[]) {
    const { method, path } = ROUTES[id];
    paths[path] ??= {};
    (paths[path] as Record<string, JsonObject>)[method.toLowerCase()] = operation(id, ROUTE_DOCS[id]);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "Workflows server",
      version: options.version ?? "1.0.0",
      description: "Run event-driven workflows, stream their events and send events into them.",
    },
    ...(options.basePath ? { servers: [{ url: options.basePath }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
