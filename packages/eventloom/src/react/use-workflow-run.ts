import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { RawEvent } from "../client/types.js";
import type { WorkflowEvent } from "../core/events.js";
import { useWorkflowClient } from "./provider.js";
import type { RegisteredName, RegisteredResult, RegisteredStart } from "./register.js";
import { RunFollower, type RunFollowerOptions, type RunSnapshot } from "./run-follower.js";

export interface UseWorkflowRunOptions extends Omit<RunFollowerOptions, "persistKey"> {
  /** Follow this handler (one from the URL, say) instead of waiting for `start`. */
  handlerId?: string | null;
  /**
   * Keep the handler id in `localStorage` under this key: a page reloaded mid-run follows the same
   * run again (rebuilt from its stored events; no text is lost or shown twice).
   */
  persist?: string;
}

/** A run as `useWorkflowRun` shows it, and what can be done with it. */
export interface WorkflowRun<N extends string> extends Omit<RunSnapshot, "result"> {
  /** The run's result once it completed (typed by the registered workflows), else null. */
  result: RegisteredResult<N> | null;
  /** Starts a new run and follows it; resolves with its handler id. */
  start(startEvent?: RegisteredStart<N>): Promise<string>;
  /** Answers the pending input-required event (an event, a raw form, or the response's fields). */
  respond(answer: WorkflowEvent | RawEvent | Record<string, unknown>): Promise<void>;
  /** Cancels the run. */
  cancel(): Promise<void>;
  /** Forgets the run (and its persisted id); back to "idle". */
  clear(): void;
}

/**
 * Starts or follows one run of a workflow: its events, the text its steps stream, its status, the
 * question it waits on and a `respond` to answer it. A dropped connection is resumed from the last
 * sequence; with `persist`, so is a reloaded page.
 *
 * @example
 * const run = useWorkflowRun("chat", { persist: "chat-run" });
 * <button onClick={() => run.start({ question: "Hi" })}>Ask</button>
 * {run.texts.map((t) => <p key={t.id}>{t.text}</p>)}
 * {run.pending && <button onClick={() => run.respond({ approved: true })}>Approve</button>}
 */
export function useWorkflowRun<N extends RegisteredName>(
  workflowName: N,
  options: UseWorkflowRunOptions = {},
): WorkflowRun<N> {
  const client = useWorkflowClient();
  const { handlerId, persist, ...rest } = options;
  const [follower] = useState(
    () => new RunFollower(client, workflowName, { ...rest, ...(persist ? { persistKey: persist } : {}) }),
  );
  const snapshot = useSyncExternalStore(
    (listener) => follower.subscribe(listener),
    () => follower.snapshot,
    () => follower.snapshot,
  );
  useEffect(() => {
    const id = handlerId ?? follower.persistedHandlerId ?? follower.snapshot.handlerId;
    if (id) follower.follow(id);
    return () => follower.stop();
  }, [follower, handlerId]);
  return useMemo(
    () => ({
      ...snapshot,
      result: snapshot.result as RegisteredResult<N> | null,
      start: (startEvent?: RegisteredStart<N>) => follower.start(startEvent),
      respond: (answer: WorkflowEvent | RawEvent | Record<string, unknown>) => follower.respond(answer),
      cancel: () => follower.cancel(),
      clear: () => follower.clear(),
    }),
    [snapshot, follower],
  );
}
