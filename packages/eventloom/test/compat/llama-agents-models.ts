// The pydantic models LlamaIndex's Python client (llama-agents-client 0.3.7) validates our answers
// with, transcribed as zod schemas from its source: llama_agents/client/protocol/__init__.py and
// protocol/serializable_events.py of github.com/run-llama/workflows-py at
// 0b2098b762f4f49994c7877a40f2060f419dcae7. Pydantic's rules, as zod says them: a field typed
// `X | None` without a default must be present and may be null (`.nullable()`, never `.optional()`);
// keys the model does not declare are ignored (zod's default strip); `str` takes only strings.
import { z } from "zod";

/** `EventEnvelopeWithMetadata`: what each SSE `data:` line and a handler's `result` must be. */
export const EventEnvelopeWithMetadata = z.object({
  value: z.record(z.string(), z.unknown()),
  qualified_name: z.string().nullable(),
  type: z.string(),
  types: z.array(z.string()).nullable(),
});

/** `Status`. */
const Status = z.enum(["running", "completed", "failed", "cancelled"]);

/** `HandlerData`: run, run-nowait, get_handler and get_result's answer. */
export const HandlerData = z.object({
  handler_id: z.string(),
  workflow_name: z.string(),
  run_id: z.string().nullable(),
  error: z.string().nullable(),
  result: EventEnvelopeWithMetadata.nullable(),
  status: Status,
  started_at: z.string(),
  updated_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

/** The models by the name the fixture gives them. */
export const MODELS = {
  HandlerData,
  HandlersListResponse: z.object({ handlers: z.array(HandlerData) }),
  HealthResponse: z.object({ status: z.enum(["healthy", "unhealthy"]) }),
  WorkflowsListResponse: z.object({ workflows: z.array(z.string()) }),
  SendEventResponse: z.object({ status: z.literal("sent") }),
  CancelHandlerResponse: z.object({ status: z.enum(["deleted", "cancelled"]) }),
} as const;

export type ModelName = keyof typeof MODELS;
