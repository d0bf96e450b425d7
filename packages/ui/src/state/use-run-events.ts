import { useEffect, useState } from "react";
import { describeError } from "../api/debugger-api.js";
import type { RunEvent } from "../api/types.js";
import { RunModel } from "../run/run-model.js";
import { useConnection } from "./connection.js";

export interface RunEvents {
  /** The run's events folded so far; mutated in place, `version` says when it changed. */
  model: RunModel;
  version: number;
  /** True once the stream delivered the run's terminal event (or the run had ended). */
  ended: boolean;
  /** The last failure, while the stream waits to try again. */
  error: string | null;
  /** When the next try is due (ms since epoch), while reconnecting. */
  retryAt: number | null;
}

const EMPTY_MODEL = new RunModel();
const EMPTY: RunEvents = { model: EMPTY_MODEL, version: 0, ended: false, error: null, retryAt: null };
const MAX_BACKOFF_MS = 15_000;
/** Views are drawn again at most this often while events stream in. */
const FLUSH_MS = 100;

/**
 * Streams every event of a run (internal ones too: the graph and the timeline need them) into a
 * {@link RunModel}. Events are folded in batches of 100 ms (the first at once); the view re-renders per batch, not per event.
 * The client resumes from the last sequence after a dropped connection; when it gives up, this tries
 * again with backoff, for as long as the run is shown.
 */
export function useRunEvents(handlerId: string | null): RunEvents {
  const { api, handleAuthError } = useConnection();
  const [state, setState] = useState<RunEvents & { handlerId: string | null }>({ ...EMPTY, handlerId: null });

  useEffect(() => {
    if (handlerId === null) return;
    const abort = new AbortController();
    const model = new RunModel();
    setState({ ...EMPTY, model, handlerId });
    let pending: RunEvent[] = [];
    let scheduled = 0;
    let flushedAt = Number.NEGATIVE_INFINITY;
    const update = (patch: Partial<RunEvents>) =>
      setState((s) => (s.handlerId === handlerId && s.model === model ? { ...s, ...patch } : s));
    const flush = () => {
      scheduled = 0;
      flushedAt = performance.now();
      const batch = pending;
      pending = [];
      if (model.ingest(batch))
        update({ version: model.version, ended: model.ending !== null, error: null, retryAt: null });
    };
    (async () => {
      let failures = 0;
      while (!abort.signal.aborted) {
        try {
          if (failures > 0) {
            // The stream says nothing until the next event: ask once that the server is back.
            await api.getRun(handlerId);
            update({ error: null, retryAt: null });
          }
          const after = model.events[model.events.length - 1]?.sequence ?? -1;
          let slice = performance.now();
          for await (const ev of api.streamEvents(handlerId, abort.signal, after)) {
            pending.push(ev);
            failures = 0;
            // Ten redraws a second: at one a frame, redrawing the views took the page from clicks.
            // The first batch at once, and the next ones from here while the stream has a backlog:
            // its reads yield through messages, which Chromium runs before timers, so a timer
            // alone fired only after the backlog (the first row came with the last).
            const now = performance.now();
            if (now - flushedAt >= FLUSH_MS) {
              window.clearTimeout(scheduled);
              flush();
            } else scheduled ||= window.setTimeout(flush, FLUSH_MS);
            // A fast stream resolves event after event in microtasks: without a pause, clicks and
            // drawing would wait for the whole backlog to be read.
            if (performance.now() - slice > 8) {
              await yieldToPage();
              slice = performance.now();
            }
          }
          if (abort.signal.aborted) return;
          window.clearTimeout(scheduled);
          flush();
          update({ ended: true, error: null, retryAt: null });
          return;
        } catch (error) {
          if (abort.signal.aborted || handleAuthError(error)) return;
          window.clearTimeout(scheduled);
          flush();
          if (isFinal(error)) {
            update({ error: describeError(error), retryAt: null });
            return;
          }
          failures++;
          const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
          update({ error: describeError(error), retryAt: Date.now() + wait });
          await sleep(wait, abort.signal);
        }
      }
    })();
    return () => {
      abort.abort();
      window.clearTimeout(scheduled);
    };
  }, [api, handlerId, handleAuthError]);

  return state.handlerId === handlerId ? state : EMPTY;
}

// A 4xx other than a timeout (the run does not exist, bad input) will not change by trying again.
function isFinal(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Lets input, timers and drawing run before the stream goes on. */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const id = window.setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        window.clearTimeout(id);
        resolve();
      },
      { once: true },
    );
  });
}
