import { useCallback, useEffect, useRef, useState } from "react";
import { type DebuggerApi, describeError } from "../api/debugger-api.js";
import type { Run, RunStatus } from "../api/types.js";
import { useConnection } from "./connection.js";

const PAGE = 100;
const POLL_MS = 2000;

export interface RunListState {
  /** Loaded runs, newest first. */
  runs: Run[];
  /** The server has older runs (load them with `more`). */
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  more: () => void;
  /** Re-reads the newest page now (after starting or cancelling a run). */
  refresh: () => void;
  /** Puts a run known from elsewhere (an id lookup, the open run) into the list. */
  merge: (run: Run) => void;
}

/**
 * The runs of one workflow, a page at a time (older pages on demand, so 10,000 runs are never all
 * loaded). While shown it re-reads only the newest page and the runs it holds as running; a run
 * object is kept when nothing in it changed, so that unchanged rows do not draw again.
 */
export function useRunList(workflow: string | null, status: RunStatus | null): RunListState {
  const { api, handleAuthError } = useConnection();
  const [state, setState] = useState<{
    key: string;
    runs: Run[];
    cursor: string | null;
    error: string | null;
  }>({ key: "", runs: [], cursor: null, error: null });
  const key = `${workflow}|${status}`;
  const current = useRef(state);
  current.current = state;
  const [loading, setLoading] = useState(false);
  const [nonce, setNonce] = useState(0);

  const fail = useCallback(
    (error: unknown, failedKey: string) => {
      if (handleAuthError(error)) return;
      // The runs held stay shown (they are only stale); a failure of a new filter shows no runs.
      setState((s) =>
        s.key === failedKey
          ? { ...s, error: describeError(error) }
          : { key: failedKey, runs: [], cursor: null, error: describeError(error) },
      );
    },
    [handleAuthError],
  );

  // The first page, then a poll that waits for each answer before asking again (no pile-up when slow).
  // biome-ignore lint/correctness/useExhaustiveDependencies: nonce forces an immediate re-read
  useEffect(() => {
    if (workflow === null) return;
    let live = true;
    let timer = 0;
    const poll = async (): Promise<void> => {
      // A hidden tab asks nothing; it looks again when its turn comes.
      if (document.hidden && current.current.key === key) {
        timer = window.setTimeout(poll, POLL_MS);
        return;
      }
      const fresh = current.current.key !== key;
      if (fresh) setLoading(true);
      try {
        const update = await readNewest(api, workflow, status, fresh ? [] : current.current.runs);
        if (!live) return;
        setState((s) => {
          if (s.key !== key || s.runs.length === 0)
            return { key, runs: update.runs, cursor: update.cursor, error: null };
          return { key, runs: mergeRuns(s.runs, update.runs), cursor: s.cursor, error: null };
        });
      } catch (error) {
        if (live) fail(error, key);
      } finally {
        if (live) {
          setLoading(false);
          timer = window.setTimeout(poll, POLL_MS);
        }
      }
    };
    poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [api, key, nonce, fail]);

  // The cursor of the page being fetched: the last rows all ask for the next page as they appear,
  // in one commit; one request per page (it was one per row, ten or twenty).
  const asked = useRef<string | null>(null);
  const more = useCallback(() => {
    const s = current.current;
    if (workflow === null || s.cursor === null || asked.current === s.cursor) return;
    const cursor = s.cursor;
    asked.current = cursor;
    setLoading(true);
    api
      .listRuns(workflow, status, PAGE, cursor)
      .then(
        (page) =>
          setState((now) =>
            now.key === key && now.cursor === cursor
              ? { ...now, runs: appendRuns(now.runs, page.runs), cursor: page.cursor }
              : now,
          ),
        (error: unknown) => fail(error, key),
      )
      .finally(() => {
        // Settled: the state holds the next cursor now (or the page may be asked for again).
        if (asked.current === cursor) asked.current = null;
        setLoading(false);
      });
  }, [api, workflow, status, key, fail]);

  const refresh = useCallback(() => setNonce((n) => n + 1), []);
  const merge = useCallback(
    (run: Run) =>
      setState((s) =>
        s.key === key && (status === null || run.status === status) && run.workflowName === workflow
          ? { ...s, runs: mergeRuns(s.runs, [run]) }
          : s,
      ),
    [key, status, workflow],
  );

  const fresh = state.key === key;
  return {
    runs: fresh ? state.runs : [],
    hasMore: fresh && state.cursor !== null,
    loading: loading || !fresh,
    error: fresh ? state.error : null,
    more,
    refresh,
    merge,
  };
}

/** The newest page, and the held runs that were running and are not on it, read one by one. */
async function readNewest(
  api: DebuggerApi,
  workflow: string,
  status: RunStatus | null,
  held: readonly Run[],
): Promise<{ runs: Run[]; cursor: string | null }> {
  const page = await api.listRuns(workflow, status, held.length === 0 ? PAGE : 25, null);
  const seen = new Set(page.runs.map((r) => r.handlerId));
  const stale = held.filter((r) => r.status === "running" && !seen.has(r.handlerId)).slice(0, 20);
  const others = await Promise.all(stale.map((r) => api.getRun(r.handlerId).catch(() => r)));
  return { runs: [...page.runs, ...others], cursor: page.cursor };
}

function sameRun(a: Run, b: Run): boolean {
  return a.status === b.status && a.updatedAt === b.updatedAt && a.completedAt === b.completedAt;
}

/** Updates held runs in place of order, keeps unchanged objects, and puts new ones first. */
export function mergeRuns(held: readonly Run[], updates: readonly Run[]): Run[] {
  const index = new Map(held.map((r, i) => [r.handlerId, i]));
  const next = [...held];
  const added: Run[] = [];
  let changed = false;
  for (const run of updates) {
    const i = index.get(run.handlerId);
    if (i === undefined) {
      added.push(run);
      changed = true;
    } else if (!sameRun(next[i]!, run) && isNewer(run, next[i]!)) {
      next[i] = run;
      changed = true;
    }
  }
  if (!changed) return held as Run[];
  added.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  return [...added, ...next];
}

// An ended record beats a running one; otherwise the later update.
function isNewer(candidate: Run, held: Run): boolean {
  if ((candidate.status === "running") !== (held.status === "running")) return candidate.status !== "running";
  return (candidate.updatedAt ?? "") >= (held.updatedAt ?? "");
}

function appendRuns(held: readonly Run[], older: readonly Run[]): Run[] {
  const ids = new Set(held.map((r) => r.handlerId));
  return [...held, ...older.filter((r) => !ids.has(r.handlerId))];
}
