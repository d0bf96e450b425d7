import { z } from "zod";
import { described, named } from "./wire-registry.js";
import { HANDLER_STATUSES } from "./wire-values.js";

export const HandlerStatusSchema = named(
  z.enum(HANDLER_STATUSES),
  "HandlerStatus",
  "A handler's status: `running` until the run ends, then how it ended.",
);
export type HandlerStatus = z.infer<typeof HandlerStatusSchema>;

// ---------------------------------------------------------------------------------------------
// Query strings. Their inputs are strings (arrays for repeatable keys, see `queryRecord`); their
// outputs are typed. Not registered as components: OpenAPI lists them field by field as parameters.

const booleanParam = (fallback: "true" | "false", description: string) =>
  described(z.enum(["true", "false"]).default(fallback), description).transform((v) => v === "true");

const AFTER_SEQUENCE_PATTERN = /^(now|-1|0|[1-9][0-9]{0,15})$/;

export const EventsQuerySchema = z.object({
  sse: booleanParam("true", "`true`: text/event-stream; `false`: application/x-ndjson."),
  include_internal: booleanParam("false", "Also stream internal events (step state changes, idle)."),
  include_qualified_name: booleanParam("true", "With `false`, `qualified_name` is omitted."),
  include_deltas: booleanParam(
    "false",
    "Also stream the text deltas steps write with `ctx.streamText`, which are not stored: SSE frames `event: delta` without an `id`, or NDJSON lines without a `sequence`, `{id, attempt, offset, delta}`.",
  ),
  include_children: booleanParam(
    "false",
    "Also stream the events of the runs this one started with `ctx.runWorkflow`, interleaved, each envelope with its `handler_id` (children's frames carry no SSE id: the cursor is the parent's).",
  ),
  after_sequence: described(
    z.string().regex(AFTER_SEQUENCE_PATTERN, "Expected an integer >= -1 or `now`").default("-1"),
    "Stream events whose sequence is greater; -1 = from the first, `now` = only later events.",
  ).transform((v): number | "now" => (v === "now" ? "now" : Number(v))),
  acquire_timeout: described(
    z
      .string()
      .refine((v) => v.trim() !== "" && Number.isFinite(Number(v)), "Expected a number")
      .optional(),
    "Accepted for the seed's clients; has no effect (there is no reader lock).",
  ),
});
export type EventsQuery = z.output<typeof EventsQuerySchema>;
export type EventsQueryInput = z.input<typeof EventsQuerySchema>;

const LIMIT_PATTERN = /^[1-9][0-9]{0,3}$/;

export const HandlersQuerySchema = z.object({
  status: described(z.array(HandlerStatusSchema).default([]), "Any of these statuses; repeatable."),
  workflow_name: described(z.array(z.string()).default([]), "Any of these workflows; repeatable."),
  limit: described(
    z
      .string()
      .regex(LIMIT_PATTERN, "Expected an integer from 1 to 1000")
      .refine((v) => Number(v) <= 1000, "Expected an integer from 1 to 1000")
      .default("100"),
    "Page size, 1..1000.",
  ).transform(Number),
  cursor: described(z.string().min(1).optional(), "The `next_cursor` of the previous page."),
  blocked: described(
    z.enum(["true", "false"]).optional(),
    "`true`: only blocked handlers (running, but unable to go on with the code now loaded); `false`: none of them.",
  ).transform((v) => (v === undefined ? undefined : v === "true")),
  waiting: described(
    z.enum(["true", "false"]).optional(),
    "`true`: only running handlers whose latest events ask for input that no step has taken up since, each with `waiting_for`; a page may then hold fewer than `limit` handlers (follow `next_cursor`).",
  ).transform((v) => (v === undefined ? undefined : v === "true")),
  parent_handler_id: described(
    z.string().min(1).optional(),
    "Only the children of this handler: the runs its steps started with `ctx.runWorkflow`.",
  ),
});
export type HandlersQuery = z.output<typeof HandlersQuerySchema>;
export type HandlersQueryInput = z.input<typeof HandlersQuerySchema>;

export const CancelQuerySchema = z.object({
  purge: booleanParam("false", "Also delete the handler and everything stored for it."),
});
export type CancelQuery = z.output<typeof CancelQuerySchema>;

/** Query keys that may repeat (the handler filters); every other key takes its last value. */
export const REPEATABLE_QUERY_KEYS: ReadonlySet<string> = new Set(["status", "workflow_name"]);

/**
 * A URL's query as the query schemas' input: arrays for repeatable keys, the last value otherwise.
 * An empty value of a repeatable filter means no filter (`status=&workflow_name=`, as LlamaIndex's
 * Python client sends it); elsewhere an empty value stays an error. Built on a null-prototype object so that a `__proto__` key is
 * just a key.
 */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (!REPEATABLE_QUERY_KEYS.has(key)) out[key] = values[values.length - 1]!;
    else if (values.some((v) => v !== "")) out[key] = values.filter((v) => v !== "");
  }
  return out;
}
