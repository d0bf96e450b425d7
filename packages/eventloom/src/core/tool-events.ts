import { z } from "zod";
import { defineEvent } from "./events.js";
import { TOOL_EVENT_NAMES } from "./text-names.js";

/**
 * A tool a step calls (for an LLM, say), published with `ctx.writeEventToStream` so that a chat UI
 * shows it: the AI SDK adapter turns it into a tool part, completed by the ToolResultEvent of the
 * same `tool_call_id`.
 */
export const ToolCallEvent = defineEvent(
  TOOL_EVENT_NAMES.call,
  z.object({ tool_call_id: z.string(), tool_name: z.string(), input: z.unknown() }),
);

/** What a tool gave back (`output`), or why it failed (`error`). */
export const ToolResultEvent = defineEvent(
  TOOL_EVENT_NAMES.result,
  z.object({ tool_call_id: z.string(), output: z.unknown().optional(), error: z.string().optional() }),
);
