import type { z } from "zod";
import type { EventDefinition, WorkflowEvent } from "./events.js";
import type { RetryPolicy } from "./retry.js";
import type { JsonValue } from "./run-state.js";

/** The user's state: a JSON object, optionally described by a zod schema. */
export type StateShape = Record<string, unknown>;

/** A step as the engine sees it. */
export interface StepDeclaration {
  readonly name: string;
  readonly accepts: readonly EventDefinition[];
  readonly emits: readonly EventDefinition[];
  /** The events it awaits with `ctx.waitForEvent`. */
  readonly waitsFor: readonly EventDefinition[];
  readonly numWorkers: number;
  readonly retry: RetryPolicy | null;
  readonly timeout: number | null;
  /** The user's function; the engine calls it with the step's `StepContext` and its event. */
  readonly fn: (ctx: unknown, ev: WorkflowEvent) => unknown;
}

/**
 * What the engine reads of a workflow. `Workflow` is the one implementation; the engine's modules
 * depend on this shape, not on the class that builds it and starts its runs.
 */
export interface WorkflowDefinition<S extends StateShape = StateShape> {
  readonly name: string;
  /** Seconds before a run times out; null = never. */
  readonly timeout: number | null;
  // biome-ignore lint/suspicious/noExplicitAny: any input type, the output is what the store holds
  readonly stateSchema: z.ZodType<S, any> | null;
  getStep(name: string): StepDeclaration | undefined;
  /** The steps that accept an event, by its qualified name. */
  stepsAccepting(qualifiedName: string): readonly StepDeclaration[];
  /** The definition for a published event's qualified name. */
  definitionOf(qualifiedName: string): EventDefinition | undefined;
  /** True when `ctx.waitForEvent(def)` may wait in step `stepName`. */
  mayAwait(stepName: string, def: EventDefinition, additional?: readonly EventDefinition[]): boolean;
  /** Checks the graph and returns the start event. */
  validate(additionalEvents?: readonly EventDefinition[]): EventDefinition;
  /** The initial user state. */
  initialState(): Record<string, JsonValue>;
}

/** The state a workflow's `ctx.store` holds: its state schema's output, or any JSON object. */
export type StateOf<W> = W extends WorkflowDefinition<infer S> ? S : StateShape;
