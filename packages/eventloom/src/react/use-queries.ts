import { useCallback, useEffect, useRef, useState } from "react";
import type { HandlerQuery } from "../client/types.js";
import type { WorkflowClient } from "../client/workflow-client.js";
import type { HandlerInfo } from "../protocol/codec.js";
import { useWorkflowClient } from "./provider.js";
import type { RegisteredWorkflows } from "./register.js";

/** What the query hooks give: the data once loaded, the last error, and a way to load again. */
export interface QueryState<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  refresh(): void;
}

type Load<T> = (client: WorkflowClient<RegisteredWorkflows>, signal: AbortSignal) => Promise<T>;

// Loads on mount and when `key` changes; `refresh` loads again. A newer load wins over an older one.
function useQuery<T>(key: string, load: Load<T>, refreshMs?: number): QueryState<T> {
  const client = useWorkflowClient();
  const loadRef = useRef(load);
  loadRef.current = load;
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the query, `tick` for a refresh
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(client, abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setState((s) => ({
          ...s,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        }));
      },
    );
    return () => abort.abort();
  }, [client, key, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(refresh, refreshMs);
    return () => clearInterval(timer);
  }, [refresh, refreshMs]);
  return { ...state, refresh };
}

/**
 * One handler's record, loaded again when its run ends (it follows the run's events while it runs).
 *
 * @example
 * const { data } = useHandler(handlerId);
 * data?.status; // "running", then "completed"
 */
export function useHandler(handlerId: string | null | undefined): QueryState<HandlerInfo | null> {
  return useQuery(`handler:${handlerId ?? ""}`, async (client, signal) => {
    if (!handlerId) return null;
    const handler = await client.getHandler(handlerId, { signal });
    if (handler.status !== "running") return handler;
    // wait for the end of the run, then read the record again
    for await (const _ of client.getWorkflowEvents(handlerId, { afterSequence: "now", signal })) {
      // the stream ends after the terminal event
    }
    return client.getHandler(handlerId, { signal });
  });
}

/** Filters of `useHandlers`, and how often to load them again. */
export interface UseHandlersFilters extends Omit<HandlerQuery, "signal" | "timeoutMs"> {
  /** Load again this often (milliseconds); default never (call `refresh`). */
  refreshMs?: number;
}

/** The first page of handlers matching the filters (newest first, `limit` of them, default 100). */
export function useHandlers(filters: UseHandlersFilters = {}): QueryState<HandlerInfo[]> {
  const { refreshMs, ...query } = filters;
  return useQuery(
    `handlers:${JSON.stringify(query)}`,
    async (client, signal) => (await client.getHandlersPage({ ...query, signal })).handlers,
    refreshMs,
  );
}

/** The server's workflow names, in registration order. */
export function useWorkflows(): QueryState<string[]> {
  return useQuery("workflows", (client, signal) => client.listWorkflows({ signal }));
}
