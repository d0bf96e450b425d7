import {
  type Context,
  context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { StepFailure } from "../../core/engine-types.js";
import {
  type PublishedEvent,
  type QueuedItem,
  type RunState,
  type RunTraceContext,
  StepStateChanged,
} from "../../core/index.js";
import type { RunEngine } from "../../core/run-engine.js";

const STEP_STATE = StepStateChanged.name;

interface StepStateData {
  step: string;
  state: "running" | "idle";
  worker_id: string;
  output_event: string | null;
  error?: { name: string; message: string };
}

/**
 * The spans of one run held in memory. The run's trace context lives in its state (`state.trace`,
 * committed with it), so whichever process runs it next, after a restart, an idle release or a
 * takeover, parents its step spans on the same `workflow.run` span. That span marks the start of the
 * run and ends at once: a span open for a run's whole life would be lost with the process that held
 * it (decision 0019). Events a step publishes are events of its span.
 */
export class RunTrace {
  readonly #tracer: Tracer;
  readonly #workflow: string;
  readonly #handlerId: string;
  /** The context whose span is the run's `workflow.run` (remote once read back from the state). */
  #parent: Context | null = null;
  #runSpan: SpanContext | null = null;
  #engine: RunEngine | null = null;
  /** Step spans open, by the execution's worker id. */
  readonly #open = new Map<string, Span>();
  readonly #steps = new WeakSet<Span>();
  /** Request spans already linked to a run's trace (or its parents), shared by the server's runs. */
  readonly #linked: WeakSet<Span>;
  /** What the attempt whose end comes next threw. */
  #failure: unknown = undefined;

  constructor(tracer: Tracer, workflow: string, handlerId: string, linked: WeakSet<Span>) {
    this.#tracer = tracer;
    this.#linked = linked;
    this.#workflow = workflow;
    this.#handlerId = handlerId;
  }

  changed(engine: RunEngine, published: readonly PublishedEvent[]): void {
    if (this.#engine === null) this.#begin(engine);
    this.#linkRequest();
    const state = engine.state;
    let finished: Span | undefined;
    const ends: [Span, StepStateData][] = [];
    for (const e of published) {
      if (e.qualifiedName === STEP_STATE) {
        const data = e.value as unknown as StepStateData;
        const span = data.state === "idle" ? this.#open.get(data.worker_id) : undefined;
        if (span) {
          this.#open.delete(data.worker_id);
          finished = span;
          ends.push([span, data]);
        }
        continue;
      }
      if (e.internal) continue;
      // A step's return comes after its end marker in the same change; what it sends, while it runs.
      const target = finished ?? this.#activeStep();
      target?.addEvent(e.type, {
        "workflow.event.type": e.qualifiedName,
        "workflow.event.sequence": e.sequence,
      });
    }
    for (const [span, data] of ends) this.#endStep(span, state, data);
    if (state.status !== "running") this.#closeOpen("interrupted");
  }

  stepFailed(failure: StepFailure): void {
    this.#failure = failure.error;
  }

  aroundStep(item: QueuedItem, call: () => unknown): unknown {
    const engine = this.#engine;
    if (!engine?.isLive || this.#parent === null) return call();
    let span: Span;
    try {
      span = this.#startStep(engine.state, item, this.#parent);
    } catch {
      return call();
    }
    this.#open.get(item.id)?.end();
    this.#open.set(item.id, span);
    this.#steps.add(span);
    return context.with(trace.setSpan(this.#parent, span), call);
  }

  #startStep(s: RunState, item: QueuedItem, parent: Context): Span {
    return this.#tracer.startSpan(
      "workflow.step",
      {
        attributes: {
          "workflow.name": this.#workflow,
          "workflow.handler_id": this.#handlerId,
          "workflow.run_id": s.runId,
          "workflow.step.name": item.step,
          "workflow.step.attempt": item.attempt,
          "workflow.step.input_event": item.event.type,
        },
      },
      parent,
    );
  }

  /** First change in this memory: the stored trace context, or a new `workflow.run` span. */
  #begin(engine: RunEngine): void {
    this.#engine = engine;
    // A suspended run (idle release, shutdown, takeover) stops its steps: their spans end here.
    engine.onPublish(() => {
      if (!engine.isLive && engine.state.status === "running") this.#closeOpen("suspended");
    });
    const state = engine.state;
    const stored = state.trace ? spanContextOf(state.trace) : null;
    if (stored) {
      this.#runSpan = stored;
      this.#parent = trace.setSpanContext(ROOT_CONTEXT, stored);
      return;
    }
    // The request that starts the run (or the one that first traced it) is its parent.
    const active = context.active();
    const request = trace.getSpan(active);
    if (request) this.#linked.add(request);
    const span = this.#tracer.startSpan(
      "workflow.run",
      {
        attributes: {
          "workflow.name": this.#workflow,
          "workflow.handler_id": this.#handlerId,
          "workflow.run_id": state.runId,
        },
      },
      active,
    );
    span.end();
    this.#runSpan = span.spanContext();
    this.#parent = trace.setSpan(ROOT_CONTEXT, span);
    // Metadata next to what the engine owns, written before the change that carries it is committed.
    state.trace = traceContextOf(this.#runSpan);
  }

  /** A request of another trace that changes the run (an answer, a cancel) links to the run's trace. */
  #linkRequest(): void {
    const span = trace.getActiveSpan();
    const run = this.#runSpan;
    if (!span || !run || this.#linked.has(span) || this.#steps.has(span)) return;
    this.#linked.add(span);
    if (!span.isRecording() || span.spanContext().traceId === run.traceId) return;
    span.addLink({ context: run, attributes: { "workflow.handler_id": this.#handlerId } });
    span.setAttribute("workflow.handler_id", this.#handlerId);
  }

  /**
   * The step span of the execution whose code is running now, if it is one of this run's; inside a
   * span of the user's own (not a step's), the run's one open step, when it has only one.
   */
  #activeStep(): Span | undefined {
    const span = trace.getActiveSpan();
    if (span && this.#steps.has(span)) return span;
    if (this.#open.size !== 1 || !span || span.spanContext().traceId !== this.#runSpan?.traceId)
      return undefined;
    return this.#open.values().next().value;
  }

  #endStep(span: Span, state: RunState, data: StepStateData): void {
    if (data.error !== undefined) {
      const error = this.#failure;
      this.#failure = undefined;
      span.recordException(error instanceof Error ? error : { ...data.error });
      span.setStatus({ code: SpanStatusCode.ERROR, message: data.error.message });
      span.setAttribute("workflow.step.outcome", "failed");
    } else {
      const waiting = data.output_event === null && waitsFor(state, data.worker_id);
      span.setAttribute("workflow.step.outcome", waiting ? "waiting" : "completed");
    }
    span.end();
  }

  #closeOpen(outcome: "interrupted" | "suspended"): void {
    for (const span of this.#open.values()) {
      span.setAttribute("workflow.step.outcome", outcome);
      span.end();
    }
    this.#open.clear();
  }
}

/** True when one of the run's waiters parks this item: the execution stopped in `waitForEvent`. */
function waitsFor(state: RunState, itemId: string): boolean {
  for (const id in state.waiters) {
    if (state.waiters[id]?.item.id === itemId) return true;
  }
  return false;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context a stored `traceparent` names (remote), or null for one that does not parse. */
export function spanContextOf(stored: RunTraceContext): SpanContext | null {
  const m = TRACEPARENT.exec(stored.traceparent);
  if (!m) return null;
  return {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
    ...(stored.tracestate ? { traceState: createTraceState(stored.tracestate) } : {}),
  };
}

/** A span context as W3C `traceparent` (and `tracestate`) values. */
export function traceContextOf(sc: SpanContext): RunTraceContext {
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
  const tracestate = sc.traceState?.serialize();
  return { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}`, ...(tracestate ? { tracestate } : {}) };
}
