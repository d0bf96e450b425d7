// protocol's modules one by one, not its index: the index brings zod, too big for a browser client
import { ErrorBodyShape } from "../protocol/answer-shapes.js";
import { checkShape, type Shape } from "../protocol/shape.js";
import { WIRE_HEADER } from "../protocol/wire-dialect.js";
import { ClientTimeoutError, WorkflowClientError, WorkflowNetworkError } from "./errors.js";

/** What every call of the client accepts. */
export interface CallOptions {
  /** Aborts the call; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
}

export interface TransportOptions {
  baseUrl: string;
  token?: string | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  headers?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface CallInit {
  method: "GET" | "POST";
  query?: Record<string, QueryValue>;
  body?: unknown;
  accept?: string;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** A stream: the timeout covers only the wait for the headers, not the body. */
  stream?: boolean;
  /** Sent as `Idempotency-Key`. */
  idempotencyKey?: string | undefined;
}

/** An open answer: headers are in; `release()` must be called once the body is no longer needed. */
export interface OpenResponse {
  response: Response;
  url: string;
  /** Rejects the body read with the right error class when the call is aborted or times out. */
  mapError(error: unknown): unknown;
  /** Stops the timeout, unlinks the caller's signal, and aborts the connection if still open. */
  release(): void;
}

/**
 * The HTTP layer of the client: URL building, headers, timeouts, and turning failures into the
 * client's error classes. `fetch` only, so that it runs in browsers too.
 */
export class Transport {
  readonly #base: URL;
  readonly #fetch: typeof globalThis.fetch;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number | undefined;

  constructor(options: TransportOptions) {
    const base = new URL(options.baseUrl);
    // so that a base with a path prefix ("http://host/api") keeps it when paths are resolved
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#base = base;
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = (input, init) => f(input, init);
    this.#headers = { ...options.headers };
    if (options.token) this.#headers["authorization"] = `Bearer ${options.token}`;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The absolute URL of `path` (segments already encoded) with `query`. */
  url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(path.replace(/^\/+/, ""), this.#base);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends a request and waits for the headers. */
  async open(path: string, init: CallInit): Promise<OpenResponse> {
    const url = this.url(path, init.query);
    const controller = new AbortController();
    const userSignal = init.signal;
    userSignal?.throwIfAborted();
    const onAbort = () => controller.abort(userSignal?.reason);
    userSignal?.addEventListener("abort", onAbort, { once: true });
    const timeoutMs = init.timeoutMs ?? this.#timeoutMs;
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort(new ClientTimeoutError(url, timeoutMs));
          }, timeoutMs);
    const release = () => {
      if (timer !== undefined) clearTimeout(timer);
      userSignal?.removeEventListener("abort", onAbort);
      controller.abort();
    };
    const mapError = (error: unknown): unknown => {
      if (userSignal?.aborted) return userSignal.reason;
      if (timedOut) return new ClientTimeoutError(url, timeoutMs ?? 0);
      if (error instanceof WorkflowClientError) return error;
      return new WorkflowNetworkError(url, error);
    };
    // The client reads the seed dialect, whichever dialect the server answers others in.
    const headers: Record<string, string> = {
      accept: init.accept ?? "application/json",
      ...this.#headers,
      [WIRE_HEADER]: "seed",
    };
    if (init.idempotencyKey !== undefined) headers["idempotency-key"] = init.idempotencyKey;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.body);
    }
    try {
      const response = await this.#fetch(url, {
        method: init.method,
        headers,
        body,
        signal: controller.signal,
      });
      if (init.stream && timer !== undefined) clearTimeout(timer);
      return { response, url, mapError, release };
    } catch (error) {
      release();
      throw mapError(error);
    }
  }

  /** Sends a request and reads the whole answer as JSON (`undefined` for an empty body). */
  async json(path: string, init: CallInit): Promise<JsonAnswer> {
    const open = await this.open(path, init);
    try {
      const text = await open.response.text();
      const { response, url } = open;
      const seconds = Number(response.headers.get("retry-after") ?? Number.NaN);
      return {
        status: response.status,
        body: parseJson(text, response, url),
        url,
        ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
      };
    } catch (error) {
      throw open.mapError(error);
    } finally {
      open.release();
    }
  }
}

/** An answer read whole. */
export interface JsonAnswer {
  status: number;
  body: unknown;
  url: string;
  /** From `Retry-After` in seconds. */
  retryAfterMs?: number;
}

const snippet = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function parseJson(text: string, response: Response, url: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    if (!response.ok) return text;
    throw new WorkflowClientError({
      status: response.status,
      code: "INVALID_RESPONSE",
      detail: `The answer from ${url} is not JSON: ${snippet(text)}`,
      cause,
    });
  }
}

/**
 * The client error for an error answer: the server's `{detail, code, issues, handler_id?}`, or
 * `HTTP_<status>`, with the answer's `Retry-After`.
 */
export function errorFromAnswer(status: number, body: unknown, retryAfterMs?: number): WorkflowClientError {
  const parsed = checkShape(ErrorBodyShape, body);
  const handlerId = (body as { handler_id?: unknown } | null)?.handler_id;
  const extra = {
    handlerId: typeof handlerId === "string" ? handlerId : undefined,
    retryAfterMs,
  };
  if (parsed.ok) {
    return new WorkflowClientError({
      status,
      code: parsed.value.code,
      detail: parsed.value.detail,
      issues: parsed.value.issues,
      ...extra,
    });
  }
  const detail = typeof body === "string" && body.trim() !== "" ? snippet(body.trim()) : `HTTP ${status}`;
  return new WorkflowClientError({ status, code: `HTTP_${status}`, detail, ...extra });
}

/** Checks a success answer's shape; one that does not fit is an `INVALID_RESPONSE`. */
export function decodeAnswer<T>(shape: Shape<T>, answer: { status: number; body: unknown; url: string }): T {
  const parsed = checkShape(shape, answer.body);
  if (parsed.ok) return parsed.value;
  throw new WorkflowClientError({
    status: answer.status,
    code: "INVALID_RESPONSE",
    detail: `The answer from ${answer.url} does not fit the contract: ${parsed.error.message}`,
    cause: parsed.error,
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
