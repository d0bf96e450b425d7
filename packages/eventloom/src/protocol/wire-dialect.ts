/**
 * The two dialects the server speaks on the same endpoints (see docs/decisions/0010): `seed`, the
 * contract of docs/HTTP-API.md, and `llama-agents`, the shapes LlamaIndex's current clients
 * (`llama-agents-client` in Python, `@llamaindex/workflows-client` in JavaScript) validate. No zod
 * here: the client imports the header's name.
 */

import type { HandlerInfo } from "./codec.js";
import type { HandlerData } from "./wire.js";
import { STOP_EVENT_NAME } from "./wire-values.js";

/** The dialects, the default first. */
export const WIRE_DIALECTS = ["seed", "llama-agents"] as const;

/** A dialect of the HTTP API. */
export type WireDialect = (typeof WIRE_DIALECTS)[number];

/** The request header a request chooses its dialect with; answers shaped by it name theirs in it. */
export const WIRE_HEADER = "x-workflows-wire";

/** The header's value as a dialect (case and surrounding spaces ignored), or null when it names none. */
export function parseWireDialect(value: string): WireDialect | null {
  const text = value.trim().toLowerCase();
  return (WIRE_DIALECTS as readonly string[]).includes(text) ? (text as WireDialect) : null;
}

/**
 * The stop event that ended a run, as the llama-agents dialect gives it for `result`: the event's
 * envelope without the stream's `sequence` and `timestamp`.
 */
export interface ResultEnvelope {
  value: Record<string, unknown>;
  qualified_name: string;
  type: string;
  types: string[];
}

/** A handler in the llama-agents dialect: the seed's record with the stop event's envelope as `result`. */
export type LlamaHandlerData = Omit<HandlerData, "result"> & { result: ResultEnvelope | null };

/** A handler record and the envelope of the event that ended it (null unless it completed). */
export function toLlamaHandlerData(record: HandlerInfo, result: ResultEnvelope | null): LlamaHandlerData {
  return {
    handler_id: record.handlerId,
    workflow_name: record.workflowName,
    run_id: record.runId,
    status: record.status,
    result,
    error: record.error,
    started_at: record.startedAt,
    updated_at: record.updatedAt,
    completed_at: record.completedAt,
  };
}

/**
 * The envelope of a stop event given as its definition's names and the handler's stored `result`:
 * a plain StopEvent's result is its `result` field, a custom stop event's result is its fields.
 */
export function resultEnvelopeOf(
  definition: { type: string; name: string; lineage: readonly string[] },
  result: unknown,
): ResultEnvelope {
  const plain = definition.name === STOP_EVENT_NAME;
  const value = plain ? { result: result ?? null } : ((result ?? {}) as Record<string, unknown>);
  return { value, qualified_name: definition.name, type: definition.type, types: [...definition.lineage] };
}

/** A handler's `result` as the seed gives it, from the llama-agents envelope (the same rule as the stop event's). */
export function resultOfEnvelope(envelope: ResultEnvelope | null): unknown {
  if (envelope === null) return null;
  return envelope.qualified_name === STOP_EVENT_NAME ? (envelope.value["result"] ?? null) : envelope.value;
}

/**
 * The status the llama-agents dialect answers a handler lookup (`/handlers/{id}`, `/results/{id}`)
 * with, as LlamaIndex's server does: 202 while it runs, 200 once completed, 500 when it failed or was
 * cancelled (the body is still the handler).
 */
export const llamaLookupStatus = (status: HandlerInfo["status"]): number =>
  status === "running" ? 202 : status === "completed" ? 200 : 500;
