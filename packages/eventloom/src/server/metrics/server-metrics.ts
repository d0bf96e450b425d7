import { type Clock, systemClock } from "../../core/clock.js";
import { ExpositionWriter } from "./exposition.js";
import { COMMIT_BUCKETS, Histogram } from "./histogram.js";
import { RunMetrics, type WorkflowSeries } from "./run-metrics.js";

/** The terminal statuses, written at 0 from the start so that `rate()` has a series to work on. */
const END_STATUSES = ["completed", "failed", "cancelled"] as const;

/** What is read at scrape time rather than counted as it happens. */
export interface MetricsView {
  /** The registered workflows: each gets its series even before its first run. */
  workflows: readonly string[];
  /** Runs of this process that are running and held in memory, by workflow. */
  active: ReadonlyMap<string, number>;
  /** Event streams open on this process. */
  streamReaders: number;
}

/**
 * This process's metrics: counters and histograms updated in place as runs change and commits land,
 * written in the Prometheus text format on a scrape. Per process: several processes sharing a
 * Postgres database are each scraped, and Prometheus sums them.
 */
export class ServerMetrics {
  readonly #workflows = new Map<string, WorkflowSeries>();
  readonly #commits = new Histogram(COMMIT_BUCKETS);
  readonly #clock: Clock;

  /** `clock`: the server's, which the engine stamps steps' starts with; it times step executions. */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** A monotonic time in milliseconds, for timing a store commit. */
  now(): number {
    return performance.now();
  }

  /** A new run of `workflow` started in this process (a continuation too; a resume is not a start). */
  runStarted(workflow: string): void {
    this.#series(workflow).started++;
  }

  /** The observer of one run held in memory: feed it every change its journal gets. */
  forRun(workflow: string): RunMetrics {
    return new RunMetrics(this.#series(workflow), () => this.#clock.now());
  }

  /** A durable store commit took this long. */
  commitTook(ms: number): void {
    this.#commits.observe(Math.max(0, ms) / 1000);
  }

  /** Every metric, in the Prometheus text exposition format 0.0.4. */
  render(view: MetricsView): string {
    for (const name of view.workflows) this.#series(name);
    const all = [...this.#workflows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const w = new ExpositionWriter();
    w.family(
      "eventloom_runs_started_total",
      "counter",
      "Runs started by this process (a resume is not a start).",
    );
    for (const [name, s] of all) w.sample("eventloom_runs_started_total", [["workflow", name]], s.started);
    w.family("eventloom_runs_ended_total", "counter", "Runs that ended in this process, by terminal status.");
    for (const [name, s] of all) {
      const statuses = new Set<string>([...END_STATUSES, ...s.ended.keys()]);
      for (const status of statuses) {
        w.sample(
          "eventloom_runs_ended_total",
          [
            ["workflow", name],
            ["status", status],
          ],
          s.ended.get(status) ?? 0,
        );
      }
    }
    w.family(
      "eventloom_runs_active",
      "gauge",
      "Running runs this process holds in memory (idle runs released from memory are not counted).",
    );
    for (const [name] of all)
      w.sample("eventloom_runs_active", [["workflow", name]], view.active.get(name) ?? 0);
    w.family(
      "eventloom_step_duration_seconds",
      "histogram",
      "Duration of step executions started in this process, by outcome (completed, failed, waiting, interrupted).",
    );
    for (const [name, s] of all) {
      for (const [step, byOutcome] of s.steps) {
        for (const [outcome, h] of byOutcome) {
          w.histogram(
            "eventloom_step_duration_seconds",
            [
              ["workflow", name],
              ["step", step],
              ["outcome", outcome],
            ],
            h,
          );
        }
      }
    }
    w.family(
      "eventloom_events_published_total",
      "counter",
      "Events published by runs in this process, internal step-state and idle events included.",
    );
    for (const [name, s] of all)
      w.sample("eventloom_events_published_total", [["workflow", name]], s.published);
    w.family(
      "eventloom_store_commit_duration_seconds",
      "histogram",
      "Duration of this process's durable store commits (one per batch).",
    );
    w.histogram("eventloom_store_commit_duration_seconds", [], this.#commits);
    w.family(
      "eventloom_stream_readers",
      "gauge",
      "Event streams (GET /events/{handler_id}) open on this process.",
    );
    w.sample("eventloom_stream_readers", [], view.streamReaders);
    return w.toString();
  }

  #series(workflow: string): WorkflowSeries {
    let s = this.#workflows.get(workflow);
    if (!s) {
      s = { started: 0, ended: new Map(), published: 0, steps: new Map() };
      this.#workflows.set(workflow, s);
    }
    return s;
  }
}
