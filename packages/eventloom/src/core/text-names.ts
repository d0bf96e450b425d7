/**
 * The qualified names of the events `ctx.streamText` publishes. Plain strings (no zod), so that the
 * client, the React hooks and the AI SDK adapter can tell them without loading the engine.
 */
export const TEXT_EVENT_NAMES = {
  /** The whole text of a stream, written once when it ends. */
  text: "eventloom.TextEvent",
  /** One stored delta (a stream written with `durable: true`). */
  delta: "eventloom.TextDeltaEvent",
} as const;

/** The qualified names of the events a step publishes around a tool it calls (see tool-events.ts). */
export const TOOL_EVENT_NAMES = {
  call: "eventloom.ToolCallEvent",
  result: "eventloom.ToolResultEvent",
} as const;
