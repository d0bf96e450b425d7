import type { Execution, WaitForEventOptions } from "./engine-types.js";
import { WaitForEventTimeoutError } from "./errors.js";
import type { EventDefinition, WorkflowEvent } from "./events.js";
import type { RunState } from "./run-state.js";
import { type RunTimer, waitKey } from "./run-timers.js";
import * as waiters from "./waiters.js";

/** What `ctx.waitForEvent` needs of the run loop (`RunEngine` hands it closures over its own). */
export interface WaitLoop {
  readonly state: RunState;
  now(): number;
  /** Fails the step when the event is too large (throws). */
  checkSize(exec: Execution, event: WorkflowEvent): void;
  /** Routes an event the step sent. */
  dispatch(event: WorkflowEvent): void;
  arm(timer: RunTimer): void;
  /** Ends the execution, its item parked on its waiter (the step runs again once answered). */
  park(exec: Execution): void;
  changed(): void;
}

/**
 * `ctx.waitForEvent`: returns the answer when this call already has one (the step is running again
 * after the answer arrived); otherwise registers a waiter, parks the item and ends the execution.
 */
export function waitForEvent(
  loop: WaitLoop,
  exec: Execution,
  def: EventDefinition,
  options: WaitForEventOptions,
): WorkflowEvent | Promise<never> {
  const id = `${exec.item.id}:${exec.waitCalls++}`;
  const s = loop.state;
  const existing = s.waiters[id];
  if (existing?.answer) return existing.answer;
  if (existing?.expired) {
    delete s.waiters[id];
    loop.changed();
    throw new WaitForEventTimeoutError(def.type, options.timeout ?? 0);
  }
  if (!existing) {
    if (options.waiterEvent) loop.checkSize(exec, options.waiterEvent);
    const waiter = waiters.newWaiter(id, exec.item, def, options, loop.now());
    s.waiters[id] = waiter;
    const answer = waiters.claimUnclaimed(s, waiter);
    if (answer) {
      loop.changed();
      return answer;
    }
    if (options.waiterEvent) loop.dispatch(options.waiterEvent);
    if (waiter.deadline !== null) loop.arm({ kind: "wait", key: waitKey(id), id, at: waiter.deadline });
  }
  loop.park(exec);
  return waiters.never();
}
