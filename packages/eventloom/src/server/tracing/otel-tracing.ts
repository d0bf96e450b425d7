import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import type { RunState } from "../../core/index.js";
import { ROUTES } from "../../protocol/routes.js";
import { insideBase } from "../http/base-path.js";
import type { HttpRequest } from "../http/http-request.js";
import { matchRoute } from "../http/route-table.js";
import type { OwnSdk } from "./own-sdk.js";
import { RunTrace, spanContextOf } from "./run-trace.js";
import type { RunTracer, ServerTracing } from "./tracing-types.js";

/** The instrumentation scope of every span the server makes. */
export const TRACER_NAME = "eventloom";

const headerGetter = {
  keys: () => [],
  get: (carrier: HttpRequest, key: string) => carrier.header(key.toLowerCase()),
};

/**
 * Tracing with whatever tracer provider is registered globally: the user's own SDK, or the one the
 * server started ({@link OwnSdk}). Loaded only when tracing is on (load-tracing.ts).
 */
export class OtelTracing implements ServerTracing {
  readonly #own: OwnSdk | null;
  readonly #tracer = trace.getTracer(TRACER_NAME);
  /** Request spans that already link to a run (or started it): never twice. */
  readonly #linked = new WeakSet<Span>();

  constructor(own: OwnSdk | null) {
    this.#own = own;
  }

  async request<T extends { status: number }>(
    request: HttpRequest,
    basePath: string,
    answer: () => Promise<T>,
  ): Promise<T> {
    let parent: Context;
    let span: Span;
    try {
      parent = propagation.extract(ROOT_CONTEXT, request, headerGetter);
      span = this.#startRequest(request, basePath, parent);
    } catch {
      // Tracing never stands in a request's way.
      return answer();
    }
    try {
      const answered = await context.with(trace.setSpan(parent, span), answer);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, answered.status);
      if (answered.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return answered;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  #startRequest(request: HttpRequest, basePath: string, parent: Context): Span {
    const route = routeOf(request, basePath);
    return this.#tracer.startSpan(
      route === null ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: request.path,
          ...(route === null ? {} : { [ATTR_HTTP_ROUTE]: route }),
        },
      },
      parent,
    );
  }

  async linkStoredRun(handlerId: string, load: () => Promise<RunState | null>): Promise<void> {
    const span = trace.getActiveSpan();
    if (!span?.isRecording() || this.#linked.has(span)) return;
    this.#linked.add(span);
    try {
      const stored = (await load())?.trace;
      const run = stored ? spanContextOf(stored) : null;
      if (!run || run.traceId === span.spanContext().traceId) return;
      span.addLink({ context: run, attributes: { "workflow.handler_id": handlerId } });
      span.setAttribute("workflow.handler_id", handlerId);
    } catch {
      // Without the stored state there is nothing to link to; the request is not the worse for it.
    }
  }

  forRun(workflow: string, handlerId: string): RunTracer {
    return new RunTrace(this.#tracer, workflow, handlerId, this.#linked);
  }

  async shutdown(): Promise<void> {
    await this.#own?.shutdown();
  }
}

/** The route template of a request (`/events/{handler_id}`, with the base path), or null. */
function routeOf(request: HttpRequest, basePath: string): string | null {
  const inside = insideBase(basePath, request.path);
  const match = inside && matchRoute(request.method, inside.path);
  return match ? basePath + ROUTES[match.id].path : null;
}
