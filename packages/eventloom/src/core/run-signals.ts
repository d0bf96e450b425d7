import type { Execution } from "./engine-types.js";
import { WorkflowError } from "./errors.js";

/**
 * The abort signals of a run: the run's own (`ctx.signal` outside a step) and each execution's.
 * Controllers are made on demand: most steps never read their signal.
 */
export class RunSignals {
  #runController: AbortController | null = null;
  /** Why the run stopped; made on demand (an Error's stack is costly and rarely read). */
  #stopReason: (() => unknown) | null = null;

  /** Fires when the run is cancelled, times out, ends or is suspended. */
  get run(): AbortSignal {
    if (!this.#runController) {
      this.#runController = new AbortController();
      if (this.#stopReason) this.#runController.abort(this.#stopReason());
    }
    return this.#runController.signal;
  }

  /** The signal of one execution: fires when the run stops, the attempt times out or is stale. */
  of(exec: Execution, current: boolean): AbortSignal {
    if (!exec.controller) {
      exec.controller = new AbortController();
      if (this.#stopReason) exec.controller.abort(this.run.reason);
      else if (!current) exec.controller.abort(new WorkflowError("HANDLER_ENDED", "The step is stale"));
    }
    return exec.controller.signal;
  }

  /** Aborts the run's signal and those of `executions`. */
  abortAll(reason: () => unknown, executions: Iterable<Execution>): void {
    let made: unknown;
    const get = () => {
      made ??= reason();
      return made;
    };
    this.#stopReason = get;
    this.#runController?.abort(get());
    for (const exec of executions) exec.controller?.abort(get());
  }
}
