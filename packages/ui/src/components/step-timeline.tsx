import { memo, useCallback } from "react";
import { formatDuration, formatPreciseTime } from "../format.js";
import type { Execution, ReceivedEvent, RunModel } from "../run/run-model.js";
import { useAction } from "../state/use-action.js";
import { Elapsed } from "./elapsed.js";
import { VirtualList } from "./virtual-list.js";

const ROW_HEIGHT = 48;

const OUTCOME: Record<Execution["outcome"], string> = {
  running: "running",
  done: "done",
  retried: "failed, retried",
  paused: "paused for an event",
  failed: "failed",
  stopped: "stopped with the run",
};

/**
 * Every execution of every step of the run, from its internal step-state events: when it started
 * (from the run's first event), how long it took, which attempt, what it took and produced, and what
 * it threw; between them, each event sent in from outside (EventReceived): what, to which step, when.
 * Live while the run goes; `step` narrows it to one step (picked on the graph).
 */
export function StepTimeline({
  model,
  version,
  step,
  onClearStep,
  handlerId,
  onForked,
}: {
  model: RunModel;
  /** Changes when the model took new events. */
  version: number;
  step: string | null;
  onClearStep: () => void;
  /** The run, and where to go once a fork of it started. */
  handlerId: string;
  onForked: (handlerId: string) => void;
}) {
  const fork = useAction();
  const run = fork.run;
  // Stable, so that the rows (memo) are not drawn again for it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `run` is made anew each render; the run and the callback are what matter
  const onFork = useCallback(
    (sequence: number) =>
      void run(async (api) => onForked(await api.forkRun(handlerId, { fromSequence: sequence }))),
    [handlerId, onForked],
  );
  const all = model.timeline;
  const rows = step ? all.filter((e) => e.step === step) : all;
  const origin = model.events[0] ? Date.parse(model.events[0].time) : 0;
  const retries = model.executions.filter((e) => e.outcome === "retried").length;
  return (
    <section className="card timeline" aria-labelledby="timeline-heading" data-version={version}>
      <div className="section-header">
        <h2 id="timeline-heading" className="section-title">
          Step timeline <span className="count">{rows.length.toLocaleString()}</span>
        </h2>
        {retries > 0 && <span className="tag">{retries} retried</span>}
        {step && (
          <button type="button" className="small-button" onClick={onClearStep}>
            Showing {step} · show all steps
          </button>
        )}
      </div>
      {fork.error && (
        <p className="error-text" role="alert">
          {fork.error}
        </p>
      )}
      {rows.length === 0 ? (
        <p className="muted">{step ? `${step} has not run yet.` : "No step has run yet."}</p>
      ) : (
        <VirtualList
          items={rows}
          rowHeight={ROW_HEIGHT}
          label="Step executions"
          className="timeline-list"
          ordered
          follow
          rowKey={(e) => (e.kind === "received" ? `r${e.sequence}` : e.index)}
          renderRow={(e) =>
            e.kind === "received" ? (
              <ReceivedRow received={e} offset={Date.parse(e.time) - origin} />
            ) : (
              <ExecutionRow
                exec={e}
                offset={Date.parse(e.startTime) - origin}
                outcome={e.outcome}
                endTime={e.endTime}
                output={e.output}
                error={e.error?.message ?? null}
                onFork={onFork}
              />
            )
          }
        />
      )}
    </section>
  );
}

const ExecutionRow = memo(function ExecutionRow({
  exec,
  offset,
  outcome,
  endTime,
  output,
  error,
  onFork,
}: {
  exec: Execution;
  offset: number;
  outcome: Execution["outcome"];
  endTime: string | null;
  output: string | null;
  error: string | null;
  onFork: (sequence: number) => void;
}) {
  const from = exec.inputSequence;
  return (
    <div
      className={`execution outcome-${outcome}`}
      data-step={exec.step}
      data-attempt={exec.attempt}
      data-outcome={outcome}
    >
      <div className="execution-line">
        <strong className="execution-step">{exec.step}</strong>
        {exec.attempt > 1 && <span className="tag">attempt {exec.attempt}</span>}
        <span className="execution-outcome">{OUTCOME[outcome]}</span>
        <span className="execution-time muted">
          +{formatDuration(Math.max(0, offset))} ·{" "}
          <Elapsed start={exec.startTime} end={outcome === "running" ? null : endTime} />
        </span>
        {exec.forkAfter && exec.endSequence !== null && (
          <button
            type="button"
            className="small-button fork-button"
            title={`A new run that goes on from the state the run had when this ${exec.step} ended: its queues and state, not its history`}
            aria-label={`Fork after ${exec.step} #${exec.index + 1}: a new run from the run's state at its end`}
            onClick={() => onFork(exec.endSequence as number)}
          >
            Fork after
          </button>
        )}
        {from !== null && (
          <button
            type="button"
            className="small-button fork-button"
            title={`A new run that begins by giving ${exec.input} #${from} to the steps that take it, with the workflow's initial state`}
            aria-label={`Fork from ${exec.step}: a new run from ${exec.input} #${from}`}
            onClick={() => onFork(from)}
          >
            Fork here
          </button>
        )}
      </div>
      <div className="execution-line muted">
        <span className="mono">
          {exec.input} → {output ?? (outcome === "running" ? "…" : "nothing")}
        </span>
        {error && (
          <span className="execution-error" title={error}>
            {error}
          </span>
        )}
      </div>
    </div>
  );
});

/** An event sent in from outside: what was sent, to which step, and when the run took it in. */
const ReceivedRow = memo(function ReceivedRow({
  received,
  offset,
}: {
  received: ReceivedEvent;
  offset: number;
}) {
  const json = JSON.stringify(received.value);
  return (
    <div className="received" data-sequence={received.sequence} data-type={received.type}>
      <div className="execution-line">
        <strong>Sent in: {received.type}</strong>
        <span className="muted">{received.step ? `to ${received.step}` : "to the steps that take it"}</span>
        <span className="execution-time muted">
          +{formatDuration(Math.max(0, offset))} ·{" "}
          <time dateTime={received.time}>{formatPreciseTime(received.time)}</time>
        </span>
      </div>
      <div className="execution-line muted">
        <span className="mono received-value" title={json}>
          {json}
        </span>
      </div>
    </div>
  );
});
