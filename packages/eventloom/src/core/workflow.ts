import type { z } from "zod";
import type { StepContext } from "./context.js";
import { WorkflowValidationError } from "./errors.js";
import { eventResolver } from "./event-resolver.js";
import {
  type DataOf,
  type EventDefinition,
  type EventOf,
  type Extending,
  HumanResponseEvent,
  type InputOf,
  InputRequiredEvent,
  lookupEventDefinition,
  StartEvent,
  StopEvent,
  type WorkflowEvent,
} from "./events.js";
import { type RunOptions, WorkflowHandler } from "./handler.js";
import { type RetryPolicy, retryPolicyProblem } from "./retry.js";
import type { JsonValue } from "./run-state.js";
import type { StateShape, StepDeclaration, WorkflowDefinition } from "./workflow-definition.js";

export type { StateOf, StateShape, StepDeclaration, WorkflowDefinition } from "./workflow-definition.js";

/** What a step function may return: an event, several, or nothing. */
export type StepResult<E extends EventDefinition> =
  | EventOf<E>
  | readonly EventOf<E>[]
  | null
  | undefined
  | void;

export interface StepOptions<A extends readonly EventDefinition[], E extends readonly EventDefinition[]> {
  /** The events this step works on; routing is by exact definition, not by ancestry. */
  accepts: A;
  /** The events this step may return or send with `ctx.sendEvent`. */
  emits?: E;
  /**
   * The events this step awaits with `ctx.waitForEvent`: they may come from outside the run, appear
   * on the graph and in the workflow's events, and `waitForEvent` refuses an event that is declared
   * nowhere (here, in another step, or in the server's `additionalEvents`).
   */
  waitsFor?: readonly EventDefinition[];
  /** How many events this step works on at once; the rest wait in its queue. Default 4. */
  numWorkers?: number;
  retry?: RetryPolicy;
  /** Seconds one attempt may take; null or missing = no limit. */
  timeout?: number | null;
}

export interface WorkflowOptions<S extends StateShape> {
  /** Used in errors and by the debugger; the server registers it under its own name. */
  name: string;
  /** Seconds before a run times out; null = never. Default 45. */
  timeout?: number | null;
  /** A label of this code's version: each handler record carries the `workflow_version` it started on. */
  version?: string;
  /** A zod schema for `ctx.store`; its defaults fill the initial state. */
  // biome-ignore lint/suspicious/noExplicitAny: any input type, the output is what the store holds
  state?: z.ZodType<S, any>;
}

type ResultOfStop<D> =
  D extends EventDefinition<infer _S, infer N, string>
    ? N extends typeof StopEvent.name
      ? unknown
      : DataOf<D>
    : never;

/** What awaiting a run gives, from the events the workflow's steps emit. */
export type ResultFromEmits<E> = [Extending<E, typeof StopEvent.name>] extends [never]
  ? unknown
  : ResultOfStop<Extending<E, typeof StopEvent.name>>;

/** What awaiting a run of this workflow gives. */
export type ResultOf<W> =
  W extends Workflow<StateShape, EventDefinition, infer E> ? ResultFromEmits<E> : unknown;

/** What a workflow's run takes as its start: the start event's fields, or any event. */
export type StartInput<A> = [Extending<A, typeof StartEvent.name>] extends [never]
  ? Record<string, unknown>
  : InputOf<Extending<A, typeof StartEvent.name>>;

/** The start event definition of a workflow (for typed clients). */
export type StartEventOf<W> =
  W extends Workflow<StateShape, infer A, EventDefinition> ? Extending<A, typeof StartEvent.name> : never;

/** Every event definition a workflow's steps accept (for typed clients). */
export type AcceptedEventsOf<W> = W extends Workflow<StateShape, infer A, EventDefinition> ? A : never;

/**
 * A workflow: steps that wake on events and emit events.
 *
 * @example
 * const wf = new Workflow({ name: "greeting" })
 *   .step("greet", { accepts: [StartEvent], emits: [StopEvent] }, async (ctx, ev) =>
 *     StopEvent.create({ result: `Hello, ${String(ev.data["name"] ?? "World")}!` }));
 * const result = await wf.run({ name: "Ada" });
 */
export class Workflow<
  S extends StateShape = StateShape,
  A extends EventDefinition = never,
  E extends EventDefinition = never,
> implements WorkflowDefinition<S>
{
  readonly name: string;
  readonly timeout: number | null;
  /** The `version` option; null when none was given. */
  readonly version: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: see WorkflowOptions.state
  readonly stateSchema: z.ZodType<S, any> | null;
  readonly #steps = new Map<string, StepDeclaration>();
  #validated: EventDefinition | null = null;
  // Derived from the steps on first use and dropped when a step is added: the run loop reads them per event.
  #cache: {
    steps: StepDeclaration[];
    events: Map<string, EventDefinition>;
    routes: Map<string, StepDeclaration[]>;
  } | null = null;

  constructor(options: WorkflowOptions<S>) {
    if (typeof options.name !== "string" || options.name.length === 0) {
      throw new TypeError("A workflow needs a name");
    }
    const timeout = options.timeout === undefined ? 45 : options.timeout;
    if (timeout !== null && !(timeout > 0)) {
      throw new WorkflowValidationError(options.name, [
        "timeout must be a positive number of seconds, or null",
      ]);
    }
    if (options.version !== undefined && (typeof options.version !== "string" || options.version === "")) {
      throw new WorkflowValidationError(options.name, ["version must be a non-empty string"]);
    }
    this.name = options.name;
    this.timeout = timeout;
    this.version = options.version ?? null;
    this.stateSchema = options.state ?? null;
  }

  /** Adds a step and returns the workflow, typed with the step's events. */
  step<const SA extends readonly EventDefinition[], const SE extends readonly EventDefinition[] = []>(
    name: string,
    options: StepOptions<SA, SE>,
    fn: (
      ctx: StepContext<S>,
      ev: EventOf<SA[number]>,
    ) => Promise<StepResult<SE[number]>> | StepResult<SE[number]>,
  ): Workflow<S, A | SA[number], E | SE[number]> {
    const problems: string[] = [];
    if (typeof name !== "string" || name.length === 0) problems.push("a step needs a name");
    if (this.#steps.has(name)) problems.push(`duplicate step name "${name}"`);
    if (!Array.isArray(options?.accepts) || options.accepts.length === 0) {
      problems.push(`step "${name}" accepts no event`);
    }
    const numWorkers = options?.numWorkers ?? 4;
    if (!Number.isInteger(numWorkers) || numWorkers < 1)
      problems.push(`step "${name}": numWorkers must be >= 1`);
    const timeout = options?.timeout ?? null;
    if (timeout !== null && !(timeout > 0)) problems.push(`step "${name}": timeout must be > 0 seconds`);
    const retryProblem = options?.retry ? retryPolicyProblem(options.retry) : null;
    if (retryProblem) problems.push(`step "${name}": ${retryProblem}`);
    if (typeof fn !== "function") problems.push(`step "${name}" has no function`);
    problems.push(...waitsForProblems(name, options?.waitsFor));
    if (problems.length > 0) throw new WorkflowValidationError(this.name, problems);

    this.#steps.set(name, {
      name,
      accepts: [...options.accepts],
      emits: [...(options.emits ?? [])],
      waitsFor: [...(options.waitsFor ?? [])],
      numWorkers,
      retry: options.retry ?? null,
      timeout,
      fn: fn as StepDeclaration["fn"],
    });
    this.#validated = null;
    this.#cache = null;
    return this as unknown as Workflow<S, A | SA[number], E | SE[number]>;
  }

  #derived() {
    if (this.#cache) return this.#cache;
    const steps = [...this.#steps.values()];
    const events = new Map<string, EventDefinition>();
    const routes = new Map<string, StepDeclaration[]>();
    for (const step of steps) {
      for (const d of [...step.accepts, ...step.emits, ...step.waitsFor]) {
        if (!events.has(d.name)) events.set(d.name, d);
      }
      for (const d of step.accepts) {
        const list = routes.get(d.name) ?? [];
        list.push(step);
        routes.set(d.name, list);
      }
    }
    this.#cache = { steps, events, routes };
    return this.#cache;
  }

  /** The steps, in declaration order. */
  get steps(): readonly StepDeclaration[] {
    return this.#derived().steps;
  }

  getStep(name: string): StepDeclaration | undefined {
    return this.#steps.get(name);
  }

  /** The steps that accept an event, by its qualified name (routing is by exact definition). */
  stepsAccepting(qualifiedName: string): readonly StepDeclaration[] {
    return this.#derived().routes.get(qualifiedName) ?? NO_STEPS;
  }

  /** The event that starts a run (validates the workflow). */
  get startEvent(): EventDefinition {
    return this.validate();
  }

  /** Every event the steps accept, emit or wait for, without duplicates, in declaration order. */
  get events(): EventDefinition[] {
    return [...this.#derived().events.values()];
  }

  /** The events that end a run (StopEvent and what extends it) among those the steps emit. */
  get stopEvents(): EventDefinition[] {
    return this.events.filter((d) => d.extends(StopEvent) && this.steps.some((s) => s.emits.includes(d)));
  }

  /**
   * Finds an event among the workflow's events and `additional` by the rule the HTTP API uses
   * (`eventResolver`): a qualified name whole, else a short type that exactly one of them has.
   */
  findEvent(name: string, additional: readonly EventDefinition[] = []): EventDefinition | undefined {
    return eventResolver([...this.events, ...additional])(name);
  }

  /** The definition for a published event's qualified name. */
  definitionOf(qualifiedName: string): EventDefinition | undefined {
    return this.#derived().events.get(qualifiedName) ?? lookupEventDefinition(qualifiedName);
  }

  /**
   * The events that may come from outside a run, among the workflow's and `additional`: start
   * events, human responses, the events a step `waitsFor`, and `additional` itself.
   */
  outsideEvents(additional: readonly EventDefinition[] = []): EventDefinition[] {
    const awaited = new Set(this.steps.flatMap((s) => s.waitsFor.map((d) => d.name)));
    const extra = new Set(additional.map((d) => d.name));
    const fromOutside = (d: EventDefinition) =>
      d.extends(StartEvent) || d.extends(HumanResponseEvent) || awaited.has(d.name) || extra.has(d.name);
    const all = new Map<string, EventDefinition>();
    for (const d of [...this.events, ...additional]) if (!all.has(d.name)) all.set(d.name, d);
    return [...all.values()].filter(fromOutside);
  }

  /**
   * True when `ctx.waitForEvent(def)` may wait in step `stepName`: the step declares `def` in
   * `waitsFor`, another step declares it anywhere, or it is among `additional`.
   */
  mayAwait(stepName: string, def: EventDefinition, additional: readonly EventDefinition[] = []): boolean {
    return (
      this.getStep(stepName)?.waitsFor.some((d) => d.name === def.name) === true ||
      this.#derived().events.has(def.name) ||
      additional.some((d) => d.name === def.name)
    );
  }

  /**
   * Checks the graph and returns the start event. Throws {@link WorkflowValidationError} listing
   * every problem, each naming the step and the event.
   */
  validate(additionalEvents: readonly EventDefinition[] = []): EventDefinition {
    if (this.#validated && additionalEvents.length === 0) return this.#validated;
    const problems: string[] = [];
    const steps = this.steps;
    if (steps.length === 0) throw new WorkflowValidationError(this.name, ["it has no steps"]);

    const accepted = new Map<string, EventDefinition>();
    const emitted = new Map<string, EventDefinition>();
    const awaited = new Set<string>();
    for (const s of steps) {
      for (const d of s.accepts) accepted.set(d.name, d);
      for (const d of s.emits) emitted.set(d.name, d);
      for (const d of s.waitsFor) awaited.add(d.name);
    }
    const starts = [...accepted.values()].filter((d) => d.extends(StartEvent));
    if (starts.length === 0)
      problems.push("no step accepts a start event (StartEvent or one that extends it)");
    if (starts.length > 1) {
      problems.push(`more than one start event is accepted: ${starts.map((d) => d.type).join(", ")}`);
    }
    if (![...emitted.values()].some((d) => d.extends(StopEvent))) {
      problems.push("no step emits a stop event (StopEvent or one that extends it)");
    }
    const outside = new Set(this.outsideEvents(additionalEvents).map((d) => d.name));
    const fromOutside = (d: EventDefinition) => outside.has(d.name);
    for (const s of steps) {
      for (const d of s.accepts) {
        if (!emitted.has(d.name) && !fromOutside(d)) {
          problems.push(
            `step "${s.name}" accepts ${d.type}, which no step emits and which does not come from outside`,
          );
        }
      }
      for (const d of s.emits) {
        const taken = accepted.has(d.name) || awaited.has(d.name);
        if (!taken && !d.extends(StopEvent) && !d.extends(InputRequiredEvent)) {
          problems.push(`step "${s.name}" emits ${d.type}, which no step accepts or waits for`);
        }
      }
    }
    // Reachability: from the start event and every event that comes from outside.
    const reached = new Set<string>();
    const frontier = [...accepted.values()].filter(fromOutside).map((d) => d.name);
    const seenEvents = new Set(frontier);
    while (frontier.length > 0) {
      const name = frontier.pop() as string;
      for (const s of steps) {
        if (reached.has(s.name) || !s.accepts.some((d) => d.name === name)) continue;
        reached.add(s.name);
        for (const d of s.emits) {
          if (!seenEvents.has(d.name)) {
            seenEvents.add(d.name);
            frontier.push(d.name);
          }
        }
      }
    }
    for (const s of steps) {
      if (!reached.has(s.name)) problems.push(`step "${s.name}" is unreachable from the start event`);
    }
    if (problems.length > 0) throw new WorkflowValidationError(this.name, problems);
    const start = starts[0] as EventDefinition;
    if (additionalEvents.length === 0) this.#validated = start;
    return start;
  }

  /**
   * Starts a run in this process. `start` is an event, or the fields of the start event.
   * Await the handler for the result; `handler.stream()` gives the published events.
   */
  run(
    start?: WorkflowEvent | StartInput<A>,
    options: RunOptions = {},
  ): WorkflowHandler<ResultFromEmits<E>, S> {
    return WorkflowHandler.start<ResultFromEmits<E>, S>(
      this,
      start as WorkflowEvent | Record<string, unknown>,
      options,
    );
  }

  /** The initial user state: the schema's defaults, or `{}`. */
  initialState(): Record<string, JsonValue> {
    if (!this.stateSchema) return {};
    return this.stateSchema.parse({}) as Record<string, JsonValue>;
  }
}

const NO_STEPS: readonly StepDeclaration[] = Object.freeze([]);

function waitsForProblems(step: string, waitsFor: unknown): string[] {
  if (waitsFor === undefined) return [];
  if (!Array.isArray(waitsFor)) return [`step "${step}": waitsFor must be an array of events`];
  const problems: string[] = [];
  for (const d of waitsFor as unknown[]) {
    const def = d as Partial<EventDefinition> | null;
    if (typeof def?.extends !== "function" || typeof def.name !== "string") {
      problems.push(`step "${step}": waitsFor must list events made by defineEvent`);
    } else if (def.extends(StopEvent) || def.extends(StartEvent)) {
      const kind = def.extends(StopEvent) ? "a stop event ends the run" : "a start event starts a run";
      problems.push(`step "${step}" waits for ${def.type}, which no step can wait for: ${kind}`);
    }
  }
  return problems;
}

/** Any workflow, whatever its types. */
// biome-ignore lint/suspicious/noExplicitAny: the widest workflow type, for registries
export type AnyWorkflow = Workflow<any, any, any>;
