/**
 * Every endpoint of the HTTP API as data: its method, its path template and whether it needs the
 * bearer token, keyed by its OpenAPI operation id. The server's router, its 404/405 answers, the
 * OpenAPI document and the client's paths all read this table. No zod here: the client imports it.
 */
export const ROUTES = {
  getHealth: { method: "GET", path: "/health", auth: false },
  getReady: { method: "GET", path: "/ready", auth: false },
  listWorkflows: { method: "GET", path: "/workflows", auth: true },
  runWorkflow: { method: "POST", path: "/workflows/{name}/run", auth: true },
  runWorkflowNowait: { method: "POST", path: "/workflows/{name}/run-nowait", auth: true },
  getWorkflowSchema: { method: "GET", path: "/workflows/{name}/schema", auth: true },
  getWorkflowEventSchemas: { method: "GET", path: "/workflows/{name}/events", auth: true },
  getWorkflowRepresentation: { method: "GET", path: "/workflows/{name}/representation", auth: true },
  getResult: { method: "GET", path: "/results/{handler_id}", auth: true },
  streamEvents: { method: "GET", path: "/events/{handler_id}", auth: true },
  sendEvent: { method: "POST", path: "/events/{handler_id}", auth: true },
  listHandlers: { method: "GET", path: "/handlers", auth: true },
  getHandler: { method: "GET", path: "/handlers/{handler_id}", auth: true },
  cancelHandler: { method: "POST", path: "/handlers/{handler_id}/cancel", auth: true },
  forkHandler: { method: "POST", path: "/handlers/{handler_id}/fork", auth: true },
  getOpenApi: { method: "GET", path: "/openapi.json", auth: true },
  getMetrics: { method: "GET", path: "/metrics", auth: true },
  listSchedules: { method: "GET", path: "/schedules", auth: true },
} as const satisfies Record<string, RouteSpec>;

/** One endpoint: `path` holds `{param}` slots, each one path segment. */
export interface RouteSpec {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** False: answered without the bearer token even when the server has one. */
  readonly auth: boolean;
}

/** An endpoint's name: its OpenAPI operation id. */
export type OperationId = keyof typeof ROUTES;

/** The `{param}` names of a path template, as a type. */
type ParamsOf<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | ParamsOf<Rest>
  : never;

/** The values an endpoint's path needs. */
export type RouteParams<Id extends OperationId> = Record<ParamsOf<(typeof ROUTES)[Id]["path"]>, string>;

/** Paths under these first segments belong to the API even when no route matches them (404 JSON, not the UI). */
export const API_PREFIXES: readonly string[] = ["workflows", "results", "events", "handlers", "schedules"];

/**
 * An endpoint's path with its slots filled (each value percent-encoded as one segment), without the
 * leading slash: relative to a base URL that may have a path prefix.
 *
 * @example
 * routePath("runWorkflow", { name: "greet" }) // "workflows/greet/run"
 */
export function routePath<Id extends OperationId>(id: Id, ...params: RouteParamsArg<Id>): string {
  const values = (params[0] ?? {}) as Record<string, string>;
  return ROUTES[id].path
    .slice(1)
    .replace(/\{([^}]+)\}/g, (_slot, name: string) => encodeURIComponent(values[name] ?? ""));
}

/** No argument for a path without slots, the slots' values otherwise. */
type RouteParamsArg<Id extends OperationId> = [ParamsOf<(typeof ROUTES)[Id]["path"]>] extends [never]
  ? []
  : [RouteParams<Id>];
