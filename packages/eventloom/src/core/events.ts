import "./zod-check.js"; // first: a zod 3 install fails here with one clear line
import { z } from "zod";
import { BUILTIN_EVENT_NAMES } from "./builtin-names.js";
import { EventValidationError } from "./errors.js";
import { assertZod4Schema } from "./zod-check.js";

/** Plain data fields of an event. */
export type EventData = Record<string, unknown>;

/**
 * An event as it travels through a run: plain, JSON-serializable data.
 * `type` is the short name, `qualifiedName` the full registered one; routing uses `qualifiedName`.
 */
export interface WorkflowEvent<D = EventData> {
  readonly type: string;
  readonly qualifiedName: string;
  readonly data: D;
}

// biome-ignore lint/suspicious/noExplicitAny: the widest schema an event may carry; narrowed by inference
type AnyObjectSchema = z.ZodType<EventData, any>;

/** A declared kind of event: its name, its zod schema and, optionally, the event it extends. */
export interface EventDefinition<
  S extends AnyObjectSchema = AnyObjectSchema,
  N extends string = string,
  L extends string = string,
> {
  /** The qualified name, e.g. `workflows.events.StopEvent` or `ResponseEvent`. */
  readonly name: N;
  /** The short name: the part of `name` after the last dot. */
  readonly type: string;
  readonly schema: S;
  readonly parent: EventDefinition | null;
  /** Qualified names from `workflows.events.Event` down to this event. */
  readonly lineage: readonly L[];
  /** Validates `data` and returns a new event; throws {@link EventValidationError} when it does not fit. */
  create(data: z.input<S>): WorkflowEvent<z.output<S>>;
  /** True when `ev` is exactly this kind of event (not a descendant). */
  is(ev: unknown): ev is WorkflowEvent<z.output<S>>;
  /** True when this event is `other` or extends it, however deeply. */
  extends(other: EventDefinition): boolean;
}

/** The event type a definition creates: `type StreamEvent = EventOf<typeof StreamEvent>`. */
export type EventOf<D> =
  D extends EventDefinition<infer S, string, string> ? WorkflowEvent<z.output<S>> : never;

/** What an event definition's `create` takes (before defaults are applied). */
export type InputOf<D> = D extends EventDefinition<infer S, string, string> ? z.input<S> : never;

/** The data type of an event definition. */
export type DataOf<D> = D extends EventDefinition<infer S, string, string> ? z.output<S> : never;

/** The qualified names of an event definition's lineage, as a union. */
export type LineageOf<D> = D extends EventDefinition<AnyObjectSchema, string, infer L> ? L : never;

/** The definitions among `D` that are, or extend, the event named `Ancestor`. */
export type Extending<D, Ancestor extends string> =
  D extends EventDefinition<AnyObjectSchema, string, infer L> ? (Ancestor extends L ? D : never) : never;

export interface DefineEventOptions<P extends EventDefinition = EventDefinition> {
  /** The event this one extends: decides whether it ends a run, asks for input, or starts one. */
  extends?: P;
}

/**
 * Declares an event.
 *
 * @example
 * const StreamEvent = defineEvent("StreamEvent", z.object({ sequence: z.number().int() }));
 * const ev = StreamEvent.create({ sequence: 1 });
 */
export function defineEvent<
  S extends AnyObjectSchema,
  const N extends string,
  P extends EventDefinition = EventDefinition<AnyObjectSchema, string, typeof ROOT_NAME>,
>(name: N, schema: S, options: DefineEventOptions<P> = {}): EventDefinition<S, N, N | LineageOf<P>> {
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(name)) {
    throw new TypeError(`Invalid event name "${name}": use identifiers separated by dots`);
  }
  assertZod4Schema(name, schema);
  const parent: EventDefinition | null = options.extends ?? (name === ROOT_NAME ? null : Event);
  const type = name.slice(name.lastIndexOf(".") + 1);
  const lineage = Object.freeze([...(parent?.lineage ?? []), name]) as readonly (N | LineageOf<P>)[];
  const definition: EventDefinition<S, N, N | LineageOf<P>> = {
    name,
    type,
    schema,
    parent,
    lineage,
    create(data) {
      return { type, qualifiedName: name, data: parseEventData(definition, data) };
    },
    is(ev): ev is WorkflowEvent<z.output<S>> {
      return typeof ev === "object" && ev !== null && (ev as WorkflowEvent).qualifiedName === name;
    },
    extends(other) {
      return (lineage as readonly string[]).includes(other.name);
    },
  };
  registry.set(name, definition as unknown as EventDefinition);
  return Object.freeze(definition);
}

// Every definition by qualified name, so that an event written to the stream without being declared
// by any step still gets its lineage. A later definition of the same name replaces the earlier one.
const registry = new Map<string, EventDefinition>();

/** The definition registered under a qualified name, if any. */
export const lookupEventDefinition = (qualifiedName: string): EventDefinition | undefined =>
  registry.get(qualifiedName);

/** Validates `data` against the definition's schema, returning the parsed (defaulted) fields. */
export function parseEventData<S extends AnyObjectSchema>(
  definition: EventDefinition<S, string, string>,
  data: unknown,
): z.output<S> {
  const parsed = definition.schema.safeParse(data ?? {});
  if (!parsed.success) {
    throw new EventValidationError(definition.type, parsed.error.issues);
  }
  return parsed.data;
}

const ROOT_NAME = BUILTIN_EVENT_NAMES.event;

/** The root of every event's lineage. */
export const Event = defineEvent(ROOT_NAME, z.looseObject({}));
/** Starts a run. Accepts any fields; a typed start event extends it. */
export const StartEvent = defineEvent(BUILTIN_EVENT_NAMES.start, z.looseObject({}));
/** Ends a run; its `result` is the run's result. An event that extends it ends the run too. */
export const StopEvent = defineEvent(BUILTIN_EVENT_NAMES.stop, z.object({ result: z.unknown().optional() }));
/** Asks for outside input; published to the stream automatically. */
export const InputRequiredEvent = defineEvent(BUILTIN_EVENT_NAMES.inputRequired, z.looseObject({}));
/** An answer from outside the run, typically from a person. */
export const HumanResponseEvent = defineEvent(BUILTIN_EVENT_NAMES.humanResponse, z.looseObject({}));

/** A thrown error as events carry it; `stack` (at most 4000 characters) when it had one. */
const errorShape = z.object({ name: z.string(), message: z.string(), stack: z.string().optional() });

/** Ends a run whose step failed after its retries. */
export const WorkflowFailedEvent = defineEvent(
  BUILTIN_EVENT_NAMES.failed,
  z.object({ step_name: z.string().nullable(), error: errorShape, attempts: z.number().int() }),
  { extends: StopEvent },
);
/** Ends a run whose timeout passed. */
export const WorkflowTimedOutEvent = defineEvent(
  BUILTIN_EVENT_NAMES.timedOut,
  z.object({ timeout: z.number(), active_steps: z.array(z.string()) }),
  { extends: StopEvent },
);
/** Ends a cancelled run. */
export const WorkflowCancelledEvent = defineEvent(BUILTIN_EVENT_NAMES.cancelled, z.object({}), {
  extends: StopEvent,
});
/** Internal: a step started or finished work on an event. */
export const StepStateChanged = defineEvent(
  BUILTIN_EVENT_NAMES.stepState,
  z.object({
    step: z.string(),
    state: z.enum(["running", "idle"]),
    worker_id: z.string(),
    input_event: z.string(),
    output_event: z.string().nullable(),
    /** Which try of the step on this event, from 1; a retry keeps the worker id and counts up. */
    attempt: z.number().int().min(1).optional(),
    /** On the idle change after an attempt threw: what it threw (retried or not). */
    error: errorShape.optional(),
    /** On an idle change, with the server's `keepStepStates`: the run's state at that step's end. */
    run_state: z.unknown().optional(),
  }),
);
/** Internal: nothing is queued or running; the run waits for outside events. */
export const WorkflowIdleEvent = defineEvent(BUILTIN_EVENT_NAMES.idle, z.object({}));
/**
 * Internal: an event sent into the run from outside its steps (`POST /events`, `handler.sendEvent`,
 * a child run's end) was taken in: what was sent and to which step, in the log with the change it made.
 */
export const EventReceived = defineEvent(
  BUILTIN_EVENT_NAMES.received,
  z.object({
    type: z.string(),
    qualified_name: z.string(),
    value: z.record(z.string(), z.unknown()),
    step: z.string().nullable(),
  }),
);

/** Every built-in event, by qualified name. */
export const builtinEvents: ReadonlyMap<string, EventDefinition> = new Map(
  [
    Event,
    StartEvent,
    StopEvent,
    InputRequiredEvent,
    HumanResponseEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
    WorkflowCancelledEvent,
    StepStateChanged,
    WorkflowIdleEvent,
    EventReceived,
  ].map((d) => [d.name, d as EventDefinition]),
);

/** Events a client filters out unless it asks for internal events. */
export const internalEventNames: ReadonlySet<string> = new Set([
  StepStateChanged.name,
  WorkflowIdleEvent.name,
  EventReceived.name,
]);

/** True for events that end a run: StopEvent and everything that extends it. */
export const isStopEventDefinition = (d: EventDefinition): boolean => d.extends(StopEvent);
