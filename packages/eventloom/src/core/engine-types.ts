import type { Clock } from "./clock.js";
import type { EventDefinition } from "./events.js";
import type { RunEngine } from "./run-engine.js";
import type { PublishedEvent, QueuedItem } from "./run-state.js";

/** Receives every change of a run, synchronously, so that a server can persist it. */
export interface RunJournal {
  /**
   * Called after each change of the run's state (read it from `engine.state`), with the events
   * published by that change, in sequence order (possibly none).
   */
  changed(engine: RunEngine, published: readonly PublishedEvent[]): void;
  /**
   * Called when an attempt of a step threw, with what it threw (in memory only: its stack is not
   * stored), before the change it causes (a retry, or the run's failure) reaches `changed`.
   */
  stepFailed?(engine: RunEngine, failure: StepFailure): void;
}

/** An attempt of a step that threw. */
export interface StepFailure {
  step: string;
  /** Which try of the step on its event, from 1. */
  attempt: number;
  error: unknown;
  /** True when the step's retry policy tries again; false when the run fails. */
  retried: boolean;
}

export interface RunEngineOptions {
  clock: Clock;
  random: () => number;
  journal: RunJournal | null;
  /** Keep every published event in memory so that `stream()` can replay them. */
  keepHistory: boolean;
  /** Events the run takes from outside besides the declared ones (`ctx.waitForEvent` may await them). */
  additionalEvents?: readonly EventDefinition[];
  /** The largest event (bytes of its data's JSON) a step may return, send or stream; null: any. */
  maxEventBytes?: number | null;
}

/** One attempt of a step on one item; replaced (and so made stale) when the item runs again. */
export interface Execution {
  readonly item: QueuedItem;
  /** Created when the step first reads `ctx.signal`. */
  controller: AbortController | null;
  waitCalls: number;
  timer: unknown;
}
