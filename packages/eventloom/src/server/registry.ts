import {
  type AnyWorkflow,
  type EventDefinition,
  HumanResponseEvent,
  type Workflow,
  WorkflowError,
} from "../core/index.js";
import { type EventResolver, eventResolver } from "../protocol/index.js";
import { type ConcurrencyLimit, type ConcurrencyOptions, checkConcurrency } from "./concurrency.js";
import { checkSchedules, type Schedule, type ScheduleOptions } from "./schedules/schedule.js";

/** A workflow as the server registered it. */
export interface RegisteredWorkflow {
  name: string;
  workflow: Workflow;
  additionalEvents: readonly EventDefinition[];
  startEvent: EventDefinition;
  /** Declared events, then additional ones, each once. */
  events: readonly EventDefinition[];
  resolve: EventResolver;
  /**
   * What `POST /events` takes into a run: the events that may come from outside (human responses,
   * `waitsFor`, `additionalEvents`), or every event with `acceptAnyEvent`.
   */
  outside: { any: boolean; names: ReadonlySet<string>; types: readonly string[] };
  /** Its schedules, checked (`addWorkflow(…, { schedules })`). */
  schedules: readonly Schedule[];
  /** Its run limit, or null. */
  concurrency: ConcurrencyLimit | null;
}

export interface AddWorkflowOptions {
  /** Events sent from outside that no step declares (e.g. awaited with `ctx.waitForEvent`). */
  additionalEvents?: readonly EventDefinition[];
  /**
   * Lets `POST /events` send any event the workflow knows into its runs (a `StopEvent`, a
   * `StartEvent`, an event one step sends another), as the seed did. Default false: only events
   * that extend `HumanResponseEvent`, the `additionalEvents` and the events a step `waitsFor`;
   * others get 400 `EVENT_NOT_ACCEPTED_FROM_OUTSIDE`.
   */
  acceptAnyEvent?: boolean;
  /**
   * Runs started by the clock: each fire time of each schedule starts one run, once across every
   * process sharing the store. A bad cron expression, time zone or start event throws here.
   */
  schedules?: readonly ScheduleOptions[];
  /** A run limit: at most `limit` runs (per `key`) execute at once; the others wait in order. */
  concurrency?: ConcurrencyOptions;
}

/** The server's workflows by name, in registration order. */
export class WorkflowRegistry {
  readonly #entries = new Map<string, RegisteredWorkflow>();

  /** Validates and registers; throws WorkflowValidationError, or a TypeError for a duplicate name. */
  add(name: string, workflow: AnyWorkflow, options: AddWorkflowOptions = {}): RegisteredWorkflow {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("A workflow needs a name");
    if (this.#entries.has(name)) throw new TypeError(`A workflow named "${name}" is already registered`);
    const wf = workflow as Workflow;
    const concurrency = checkConcurrency(name, options.concurrency);
    const additionalEvents = [...(options.additionalEvents ?? [])];
    const startEvent = wf.validate(additionalEvents);
    const events = new Map<string, EventDefinition>();
    for (const d of [...wf.events, ...additionalEvents]) if (!events.has(d.name)) events.set(d.name, d);
    const resolve = eventResolver(events.values());
    const schedules = checkSchedules(name, options.schedules, { definition: startEvent, resolve });
    this.#checkScheduleIds(name, schedules);
    const entry: RegisteredWorkflow = {
      name,
      workflow: wf,
      additionalEvents,
      startEvent,
      events: [...events.values()],
      resolve,
      outside: outsideEvents(wf, additionalEvents, options.acceptAnyEvent === true),
      schedules,
      concurrency,
    };
    this.#entries.set(name, entry);
    return entry;
  }

  get(name: string): RegisteredWorkflow | undefined {
    return this.#entries.get(name);
  }

  /** The entry, or a 404 WORKFLOW_NOT_FOUND. */
  require(name: string): RegisteredWorkflow {
    const entry = this.#entries.get(name);
    if (!entry) throw new WorkflowError("WORKFLOW_NOT_FOUND", `Workflow "${name}" not found`);
    return entry;
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Every registered workflow's schedules, in registration order. */
  get schedules(): Schedule[] {
    return [...this.#entries.values()].flatMap((entry) => entry.schedules);
  }

  /** A schedule id names one schedule of one server. */
  #checkScheduleIds(name: string, schedules: readonly Schedule[]): void {
    const taken = new Set(this.schedules.map((s) => s.id));
    for (const [i, schedule] of schedules.entries()) {
      if (taken.has(schedule.id)) {
        const message = `Schedule id "${schedule.id}" is already used; give each schedule its own id`;
        throw new WorkflowError("INVALID_WORKFLOW", `Workflow "${name}": schedules[${i}].id: ${message}`, {
          issues: [{ path: `schedules[${i}].id`, message }],
        });
      }
      taken.add(schedule.id);
    }
  }
}

/** The events a run takes from outside: human responses, awaited ones and the additional ones. */
function outsideEvents(
  wf: Workflow,
  additional: readonly EventDefinition[],
  any: boolean,
): RegisteredWorkflow["outside"] {
  const awaited = new Set(wf.steps.flatMap((s) => s.waitsFor.map((d) => d.name)));
  const extra = new Set(additional.map((d) => d.name));
  // Not wf.outsideEvents() whole: it counts the start event, which only a run request may send.
  const accepted = wf
    .outsideEvents(additional)
    .filter((d) => d.extends(HumanResponseEvent) || awaited.has(d.name) || extra.has(d.name));
  return { any, names: new Set(accepted.map((d) => d.name)), types: accepted.map((d) => d.type) };
}
