import { BUILTIN_EVENT_NAMES, type HandlerInfo, type ScheduleInfo } from "eventloom/client";
import type { JsonSchema } from "../schema-form/index.js";

export type RunStatus = "running" | "completed" | "failed" | "cancelled";

/** A run as the debugger shows it: the client's handler record. */
export type Run = HandlerInfo;

/** A schedule with its next fire time and last run: the client's record. */
export type Schedule = ScheduleInfo;

/** One event of a run's stream. */
export interface RunEvent {
  sequence: number;
  type: string;
  qualifiedName: string;
  /** Lineage, from `workflows.events.Event` down to the event itself. */
  types: string[];
  value: Record<string, unknown>;
  /** When the server recorded it, or (when the server does not say) when this page received it. */
  time: string;
  timeSource: "server" | "received";
}

export interface GraphNode {
  id: string;
  label: string;
  nodeType: "step" | "event" | "external";
  /** For event nodes: the event's qualified name and lineage. */
  eventType: string | undefined;
  eventTypes: string[];
}

export interface GraphEdge {
  source: string;
  target: string;
}

export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** An event a person can send into a run: its short name and its schema. */
export interface EventSchema {
  type: string;
  schema: JsonSchema;
}

export interface StartSchema {
  start: JsonSchema;
  stop: JsonSchema;
}

export const EVENT_NAMES = BUILTIN_EVENT_NAMES;

export const isInternal = (ev: RunEvent): boolean =>
  ev.qualifiedName === EVENT_NAMES.stepState ||
  ev.qualifiedName === EVENT_NAMES.idle ||
  ev.qualifiedName === EVENT_NAMES.received;

export const isTerminal = (ev: RunEvent): boolean => ev.types.includes(EVENT_NAMES.stop);

export const isInputRequired = (ev: RunEvent): boolean => ev.types.includes(EVENT_NAMES.inputRequired);

/** The part of a qualified name after its last dot. */
export const shortName = (name: string): string => name.slice(name.lastIndexOf(".") + 1);
