import { z } from "zod";
import { InvalidContextError, toValidationIssues } from "./errors.js";
import type { RunState } from "./run-state.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

const event = z.object({
  type: z.string(),
  qualifiedName: z.string(),
  data: z.record(z.string(), z.unknown()),
});
const item = z.object({ id: z.string(), step: z.string(), event, attempt: z.number().int().min(1) });
const json: z.ZodType<unknown> = z.unknown().refine((v) => v !== undefined);

const outcome = z.object({
  status: z.enum(["completed", "failed", "cancelled"]),
  result: z.unknown(),
  error: z.string().nullable(),
  stopEvent: event,
  failedStep: z.string().nullable(),
});

/** The shape of a serialized context: checked before a run starts from one. */
export const runStateSchema = z.object({
  version: z.literal(1),
  workflowName: z.string(),
  runId: z.string(),
  status: z.enum(["running", "completed", "failed", "cancelled"]),
  startedAt: z.number(),
  deadline: z.number().nullable(),
  nextSequence: z.number().int().min(0),
  nextItemId: z.number().int().min(0),
  queues: z.record(z.string(), z.array(item)),
  inFlight: z.record(z.string(), item.extend({ startedAt: z.number() })),
  retries: z.record(z.string(), item.extend({ at: z.number() })),
  collected: z.record(
    z.string(),
    z.array(z.object({ itemId: z.string(), event, consumedBy: z.string().nullable() })),
  ),
  waiters: z.record(
    z.string(),
    z.object({
      id: z.string(),
      item,
      eventName: z.string(),
      requirements: z.record(z.string(), json),
      deadline: z.number().nullable(),
      answer: event.nullable(),
      expired: z.boolean(),
    }),
  ),
  delayed: z
    .record(
      z.string(),
      z.object({
        id: z.string(),
        itemId: z.string(),
        event,
        step: z.string().nullable(),
        at: z.number(),
        delivered: z.boolean(),
      }),
    )
    .optional(),
  children: z
    .record(
      z.string(),
      z.object({
        id: z.string(),
        handlerId: z.string(),
        workflow: z.string(),
        start: event,
        wait: z.boolean(),
        ended: z.boolean(),
      }),
    )
    .optional(),
  unclaimed: z.array(event),
  pendingStart: event.optional(),
  store: z.record(z.string(), json),
  idle: z.boolean(),
  outcome: outcome.nullable(),
  trace: z.object({ traceparent: z.string(), tracestate: z.string().optional() }).optional(),
});

/** Parses and checks a serialized context against a workflow; throws {@link InvalidContextError}. */
export function parseRunState(input: unknown, workflow: WorkflowDefinition): RunState {
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch (cause) {
      throw new InvalidContextError("The context is not valid JSON", { cause });
    }
  }
  const parsed = runStateSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidContextError("The context is malformed", {
      issues: toValidationIssues(parsed.error.issues, "context"),
    });
  }
  const state = structuredClone(parsed.data) as RunState;
  const problems: string[] = [];
  const known = (step: string) => workflow.getStep(step) !== undefined;
  for (const step of Object.keys(state.queues))
    if (!known(step)) problems.push(`unknown step "${step}" in queues`);
  for (const it of [...Object.values(state.inFlight), ...Object.values(state.retries)]) {
    if (!known(it.step)) problems.push(`unknown step "${it.step}"`);
  }
  for (const w of Object.values(state.waiters))
    if (!known(w.item.step)) problems.push(`unknown step "${w.item.step}"`);
  if (problems.length > 0) {
    throw new InvalidContextError(
      `The context does not fit workflow "${workflow.name}": ${problems.join("; ")}`,
    );
  }
  return state;
}
