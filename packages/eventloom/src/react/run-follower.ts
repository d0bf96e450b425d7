import { WorkflowClientError } from "../client/errors.js";
import { isTextDelta, type RunStreamItem } from "../client/event-stream.js";
import { type StreamedText, TextStreams } from "../client/text-streams.js";
import type { RawEvent } from "../client/types.js";
import type { WorkflowClient } from "../client/workflow-client.js";
import { BUILTIN_EVENT_NAMES } from "../core/builtin-names.js";
import type { WorkflowEvent } from "../core/events.js";
import type { RunStatus } from "../core/run-state.js";
import type { EventEnvelope } from "../protocol/codec.js";

/** Where a followed run's connection is. */
export type RunConnection = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** What a followed run looks like now (a new object after each change). */
export interface RunSnapshot {
  handlerId: string | null;
  /** "idle" before a run is started or attached; then the handler's status. */
  status: "idle" | "starting" | RunStatus;
  /** The run's stored events (not the internal ones), in sequence order. */
  events: EventEnvelope[];
  /** The text its steps streamed (`ctx.streamText`), put together, one entry per stream. */
  texts: StreamedText[];
  /** The input-required event the run waits on, until it is answered. */
  pending: EventEnvelope | null;
  result: unknown;
  error: string | null;
  connection: RunConnection;
  /** The last stored event's sequence this reader has: a reconnection goes on after it. */
  lastSequence: number;
}

/** Where a follower keeps the handler id so that a reload finds the run again. */
export interface HandlerIdStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface RunFollowerOptions {
  /** Keeps the handler id under this key, so that a page reloaded mid-run follows the same run. */
  persistKey?: string;
  /** Default `globalThis.localStorage` when there is one. */
  storage?: HandlerIdStorage | null;
  /** What `respond` sends a plain object of fields as. Default `HumanResponseEvent`. */
  responseType?: string;
  /** Delay before reconnecting after the client gave up, doubled each time up to 5 s. Default 250 ms. */
  retryDelayMs?: number;
}

const INPUT_REQUIRED = BUILTIN_EVENT_NAMES.inputRequired;
const STOP = BUILTIN_EVENT_NAMES.stop;
const STEP_STATE = BUILTIN_EVENT_NAMES.stepState;
const INTERNAL = new Set<string>([BUILTIN_EVENT_NAMES.stepState, BUILTIN_EVENT_NAMES.idle]);

const initial = (): RunSnapshot => ({
  handlerId: null,
  status: "idle",
  events: [],
  texts: [],
  pending: null,
  result: null,
  error: null,
  connection: "idle",
  lastSequence: -1,
});

// biome-ignore lint/suspicious/noExplicitAny: any client, whatever its workflow map
type AnyClient = WorkflowClient<any>;

const isEvent = (v: unknown): v is WorkflowEvent =>
  typeof v === "object" && v !== null && "qualifiedName" in v && "data" in v;

/**
 * Follows one run of a workflow with a WorkflowClient, without React: starts it or attaches to it,
 * reads its events and text deltas, reconnects from the last sequence it has whenever the
 * connection drops (for as long as it is not stopped), and tells subscribers after each change.
 * `useWorkflowRun` is this in a hook.
 */
export class RunFollower {
  readonly #client: AnyClient;
  readonly #name: string;
  readonly #o: RunFollowerOptions;
  readonly #listeners = new Set<() => void>();
  #snapshot: RunSnapshot = initial();
  #texts = new TextStreams();
  #abort: AbortController | null = null;
  // the step that last started, and the one that asked the pending question
  #running: unknown = null;
  #askedBy: unknown = null;

  constructor(client: AnyClient, workflowName: string, options: RunFollowerOptions = {}) {
    this.#client = client;
    this.#name = workflowName;
    this.#o = options;
  }

  get snapshot(): RunSnapshot {
    return this.#snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The handler id kept under `persistKey`, if any. */
  get persistedHandlerId(): string | null {
    const key = this.#o.persistKey;
    return key ? (this.#storage()?.getItem(key) ?? null) : null;
  }

  /** Starts a run of the workflow and follows it; resolves with its handler id. */
  async start(startEvent?: unknown): Promise<string> {
    this.stop();
    this.#reset(null, "starting");
    const started = await this.#client.runWorkflowNowait(
      this.#name,
      startEvent === undefined ? {} : { startEvent: startEvent as never },
    );
    this.attach(started.handlerId);
    return started.handlerId;
  }

  /** Follows an existing handler from its first event (after a reload: the page kept nothing). */
  attach(handlerId: string): void {
    this.stop();
    this.#reset(handlerId, "running");
    const key = this.#o.persistKey;
    if (key) this.#storage()?.setItem(key, handlerId);
    const abort = new AbortController();
    this.#abort = abort;
    void this.#follow(handlerId, abort.signal);
  }

  /**
   * Follows `handlerId`: goes on from the last sequence it has when it was following that handler
   * before (a component mounted again), else attaches from the first event.
   */
  follow(handlerId: string): void {
    if (this.#abort && this.#snapshot.handlerId === handlerId) return;
    if (this.#snapshot.handlerId !== handlerId) {
      this.attach(handlerId);
      return;
    }
    const abort = new AbortController();
    this.#abort = abort;
    void this.#follow(handlerId, abort.signal);
  }

  /**
   * Sends the answer to the pending input-required event: an event made by `create`, a raw wire
   * form, or a plain object of fields (sent as `responseType`).
   */
  async respond(answer: WorkflowEvent | RawEvent | Record<string, unknown>): Promise<void> {
    const { handlerId, pending } = this.#snapshot;
    if (!handlerId) throw new Error("No run to respond to: start or attach one first");
    const event =
      isEvent(answer) || typeof answer === "string" || "type" in answer || "qualified_name" in answer
        ? (answer as WorkflowEvent | RawEvent)
        : { type: this.#o.responseType ?? "HumanResponseEvent", value: answer };
    await this.#client.sendEvent(handlerId, event);
    if (this.#snapshot.pending === pending) this.#set({ pending: null });
  }

  /** Cancels the run (the stream then ends with its cancellation event). */
  async cancel(): Promise<void> {
    const { handlerId } = this.#snapshot;
    if (handlerId) await this.#client.cancelHandler(handlerId);
  }

  /** Stops following (closes the connection); the run goes on on the server. */
  stop(): void {
    this.#abort?.abort();
    this.#abort = null;
  }

  /** Stops, forgets the persisted handler id and goes back to "idle". */
  clear(): void {
    this.stop();
    const key = this.#o.persistKey;
    if (key) this.#storage()?.removeItem(key);
    this.#reset(null, "idle");
  }

  #storage(): HandlerIdStorage | null {
    if (this.#o.storage !== undefined) return this.#o.storage;
    return (globalThis as { localStorage?: HandlerIdStorage }).localStorage ?? null;
  }

  #reset(handlerId: string | null, status: RunSnapshot["status"]): void {
    this.#texts = new TextStreams();
    this.#running = null;
    this.#askedBy = null;
    this.#snapshot = { ...initial(), handlerId, status };
    this.#emit();
  }

  #set(change: Partial<RunSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }

  async #follow(handlerId: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        this.#set({ connection: failures > 0 ? "reconnecting" : "connecting" });
        const items = this.#client.followRun(handlerId, {
          afterSequence: this.#snapshot.lastSequence,
          includeInternal: true,
          signal,
        });
        for await (const item of items) {
          if (signal.aborted) return;
          failures = 0;
          this.#apply(item);
        }
        const handler = await this.#client.getResult(handlerId, { signal });
        if (signal.aborted) return;
        if (handler.status === "running") continue;
        this.#set({
          status: handler.status,
          result: handler.result,
          error: handler.error,
          pending: null,
          connection: "closed",
        });
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof WorkflowClientError && error.status < 500) {
          this.#set({ error: error.message, connection: "closed" });
          return;
        }
        failures++;
        this.#set({ connection: "reconnecting" });
        const ms = Math.min(5_000, (this.#o.retryDelayMs ?? 250) * 2 ** (failures - 1));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  #apply(item: RunStreamItem): void {
    const change = this.#texts.apply(item);
    if (isTextDelta(item)) {
      if (change) this.#set({ texts: this.#texts.all });
      return;
    }
    const s = this.#snapshot;
    const next: Partial<RunSnapshot> = { lastSequence: item.sequence, connection: "open" };
    if (change) next.texts = this.#texts.all;
    const name = item.qualifiedName ?? item.type;
    if (INTERNAL.has(name)) {
      if (name === STEP_STATE && item.value["state"] === "running") {
        this.#running = item.value["step"];
        // the step that asked runs again once answered: the question is no longer pending
        if (s.pending && this.#running === this.#askedBy) next.pending = null;
      }
    } else {
      next.events = [...s.events, item];
      if (item.types.includes(INPUT_REQUIRED)) {
        next.pending = item;
        this.#askedBy = this.#running;
      }
      if (item.types.includes(STOP)) next.pending = null;
    }
    this.#set(next);
  }
}
