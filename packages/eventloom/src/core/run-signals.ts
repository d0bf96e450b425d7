import type { Execution } from "./engine-types.js";
import { WorkflowError } from "./errors.js";

/**
 * The abort signals of a run: the run's own (`ctx.signal` outside a step) and each execution's.
 * Controllers are made on demand: most steps never read their signal.
 */
export class RunSignals {
  #runController: AbortController | null = null;
  /** Why the run stopped: made on demand (an Error's stack is costly and rarely read), then kept. */
  #makeReason: (() => unknown) | null = null;
  #reason: unknown = undefined;

  /** Fires when the run is cancelled, times out, ends or is suspended. */
  get run(): AbortSignal {
    if (!this.#runController) {
      this.#runController = new AbortController();
      if (this.#makeReason) this.#runController.abort(this.#stopReasonNow());
    }
    return this.#runController.signal;
  }

  /** The signal of one execution: fires when the run stops, the attempt times out or is stale. */
  of(exec: Execution, current: boolean): AbortSignal {
    if (!exec.controller) {
      exec.controller = new AbortController();
      if (this.#makeReason) exec.controller.abort(this.#stopReasonNow());
      else if (!current) exec.controller.abort(new WorkflowError("HANDLER_ENDED", "The step is stale"));
    }
    return exec.controller.signal;
  }

  /** Aborts the run's signal and those of `executions`. */
  abortAll(reason: () => unknown, executions: Iterable<Execution>): void {
    this.#makeReason = reason;
    this.#reason = undefined;
    this.#runController?.abort(this.#stopReasonNow());
    for (const exec of executions) exec.controller?.abort(this.#stopReasonNow());
  }

  #stopReasonNow(): unknown {
    if (this.#makeReason !== null && this.#reason === undefined) this.#reason = this.#makeReason();
    return this.#reason;
  }
}
