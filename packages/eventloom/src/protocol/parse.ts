import type { z } from "zod";
import { type ErrorCode, toValidationIssues, WorkflowError } from "../core/errors.js";
import {
  type CancelQuery,
  CancelQuerySchema,
  type EventsQuery,
  EventsQuerySchema,
  type ForkRequest,
  ForkRequestSchema,
  type HandlersQuery,
  HandlersQuerySchema,
  queryRecord,
  type RunRequest,
  RunRequestSchema,
  type SendEventRequest,
  SendEventRequestSchema,
} from "./wire.js";

/**
 * Parses `value` with a wire schema.
 *
 * @throws WorkflowError with `code` and `issues` (paths prefixed with `prefix`) when it does not fit.
 */
export function parseWire<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: ErrorCode,
  what: string,
  prefix = "",
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toValidationIssues(parsed.error.issues, prefix);
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new WorkflowError(code, `Invalid ${what}: ${summary}`, { issues });
}

/**
 * The body of run and run-nowait. A missing body (`undefined`/`null`) is `{}`.
 *
 * @throws WorkflowError `INVALID_HANDLER_ID` for a handler id that does not match the pattern, else
 *   `INVALID_BODY`, with `issues`.
 */
export function parseRunRequest(raw: unknown): RunRequest {
  const body = raw ?? {};
  const handlerId = (body as { handler_id?: unknown }).handler_id;
  const parsed = RunRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  if (parsed.error.issues.every((i) => i.path[0] === "handler_id") && handlerId !== undefined) {
    return parseWire(RunRequestSchema, body, "INVALID_HANDLER_ID", "handler_id");
  }
  return parseWire(RunRequestSchema, body, "INVALID_BODY", "request body");
}

/** The body of POST /handlers/{handler_id}/fork (missing: `{}`). @throws WorkflowError `INVALID_BODY` with `issues`. */
export function parseForkRequest(raw: unknown): ForkRequest {
  const body = parseWire(ForkRequestSchema, raw ?? {}, "INVALID_BODY", "request body");
  if (body.from_sequence !== undefined && body.start_event != null) {
    throw new WorkflowError(
      "INVALID_BODY",
      "Invalid request body: give start_event or from_sequence, not both",
      {
        issues: [{ path: "from_sequence", message: "Not with start_event" }],
      },
    );
  }
  return body;
}

/** The body of POST /events/{handler_id}. @throws WorkflowError `INVALID_BODY` with `issues`. */
export const parseSendEventRequest = (raw: unknown): SendEventRequest =>
  parseWire(SendEventRequestSchema, raw, "INVALID_BODY", "request body");

/** The query of GET /events/{handler_id}. @throws WorkflowError `INVALID_QUERY` with `issues`. */
export const parseEventsQuery = (params: URLSearchParams): EventsQuery =>
  parseWire(EventsQuerySchema, queryRecord(params), "INVALID_QUERY", "query");

/** The query of GET /handlers. @throws WorkflowError `INVALID_QUERY` with `issues`. */
export const parseHandlersQuery = (params: URLSearchParams): HandlersQuery =>
  parseWire(HandlersQuerySchema, queryRecord(params), "INVALID_QUERY", "query");

/** The query of POST /handlers/{handler_id}/cancel. @throws WorkflowError `INVALID_QUERY` with `issues`. */
export const parseCancelQuery = (params: URLSearchParams): CancelQuery =>
  parseWire(CancelQuerySchema, queryRecord(params), "INVALID_QUERY", "query");
