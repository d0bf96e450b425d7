import {
  type AnyWorkflow,
  InputRequiredEvent,
  type ResultOf,
  type RunOutcome,
  type RunStatus,
  type WorkflowEvent,
  type WorkflowHandler,
} from "../core/index.js";
import { FakeClock, settle } from "./fake-clock.js";

/** An event the run published, with its sequence in the run's stream. */
export type CollectedEvent = WorkflowEvent & { sequence: number };

export interface TestRunOptions {
  /**
   * Answers an input-required event (an InputRequiredEvent or one that extends it) the run
   * publishes: the event returned is sent into the run; undefined sends nothing.
   */
  respond?: (event: CollectedEvent) => WorkflowEvent | undefined | Promise<WorkflowEvent | undefined>;
  /** Also collect step-state and idle events. Default false. */
  includeInternal?: boolean;
  /** Gives up (throws) once this much fake time has passed. Default one day. */
  maxFakeMs?: number;
}

/** How a test run ended, and what it published on the way. */
export interface TestRunResult<R> {
  status: Exclude<RunStatus, "running">;
  /** The stop event's result when the run completed, else null. */
  result: R | null;
  /** Why the run failed or was cancelled, else null. */
  error: string | null;
  /** The published events in stream order (internal ones only with `includeInternal`). */
  events: CollectedEvent[];
  /** Their types, for quick assertions. */
  eventTypes: string[];
  /** The fake time the run took, in milliseconds. */
  elapsedMs: number;
  /** The whole outcome (the stop event, the failed step). */
  outcome: RunOutcome;
}

/**
 * Runs a workflow in process on a {@link FakeClock} for a test: collects what it publishes, answers
 * its input-required events, and jumps the clock to the next timer whenever the run has nothing else
 * to do, so retries, step timeouts and `waitForEvent` timeouts take no real time. A step that does
 * real I/O while a timer is pending may see that timer fire early: keep such I/O out of the test, or
 * give it no timeout.
 *
 * @example
 * import { WorkflowTestRunner } from "eventloom/testing";
 *
 * const runner = new WorkflowTestRunner(approvalWorkflow);
 * const run = await runner.run(StartEvent.create({ amount: 120 }), {
 *   respond: (event) => (event.type === "AskApproval" ? Approval.create({ approved: true }) : undefined),
 * });
 * expect(run.status).toBe("completed");
 * expect(run.eventTypes).toEqual(["AskApproval", "StopEvent"]);
 */
export class WorkflowTestRunner<W extends AnyWorkflow> {
  readonly workflow: W;
  /** The clock the runs use; advance it yourself between runs if a test needs to. */
  readonly clock: FakeClock;

  constructor(workflow: W, options: { clock?: FakeClock } = {}) {
    this.workflow = workflow;
    this.clock = options.clock ?? new FakeClock();
  }

  /** Runs the workflow from `start` (an event, or the start event's fields) until it ends. */
  async run(
    start?: Parameters<W["run"]>[0],
    options: TestRunOptions = {},
  ): Promise<TestRunResult<ResultOf<W>>> {
    const clock = this.clock;
    const began = clock.now();
    const limit = began + (options.maxFakeMs ?? 86_400_000);
    const handler = this.workflow.run(start, { clock }) as WorkflowHandler<ResultOf<W>>;
    const events: CollectedEvent[] = [];
    let answering = 0;
    let failure: unknown = null;
    const collecting = (async () => {
      for await (const event of handler.stream({ includeInternal: options.includeInternal ?? false })) {
        events.push(event);
        if (!options.respond || !this.#inputRequired(event)) continue;
        answering++;
        try {
          const answer = await options.respond(event);
          if (answer && handler.outcome === null) handler.sendEvent(answer);
        } catch (error) {
          failure ??= error;
        } finally {
          answering--;
        }
      }
    })();
    while (handler.outcome === null && failure === null) {
      const seen = handler.state.nextSequence;
      await settle();
      if (handler.outcome !== null || handler.state.nextSequence !== seen || answering > 0) continue;
      const due = clock.nextDue;
      if (due !== null) {
        if (due > limit)
          throw new Error(`The run did not end within ${options.maxFakeMs ?? 86_400_000} ms of fake time`);
        await clock.advance(due - clock.now());
      } else if (handler.state.idle) {
        handler.suspend();
        throw new Error(
          "The run waits for an event nobody sends: answer its input-required events with `respond`",
        );
      } else {
        // Steps are doing real work (I/O): wait for them to publish something.
        await new Promise<void>((resolve) => {
          const off = handler.engine.onPublish(() => {
            off();
            resolve();
          });
        });
      }
    }
    if (failure !== null) {
      handler.suspend();
      throw failure;
    }
    await collecting;
    const outcome = handler.outcome as RunOutcome;
    return {
      status: outcome.status as Exclude<RunStatus, "running">,
      result: outcome.status === "completed" ? (outcome.result as ResultOf<W>) : null,
      error: outcome.error,
      events,
      eventTypes: events.map((e) => e.type),
      elapsedMs: clock.now() - began,
      outcome,
    };
  }

  #inputRequired(event: CollectedEvent): boolean {
    return this.workflow.definitionOf(event.qualifiedName)?.extends(InputRequiredEvent) === true;
  }
}
