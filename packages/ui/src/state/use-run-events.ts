import { useEffect, useState } from "react";
import { describeError } from "../api/debugger-api.js";
import { isTerminal, type RunEvent } from "../api/types.js";
import { useConnection } from "./connection.js";

export interface RunEvents {
  events: RunEvent[];
  /** True once the stream delivered the run's terminal event (or the run had ended). */
  ended: boolean;
  error: string | null;
}

const EMPTY: RunEvents = { events: [], ended: false, error: null };

/**
 * Streams every event of a run (internal ones too: the graph needs them) into one growing list.
 * The client resumes from the last sequence after a dropped connection; a repeated sequence is ignored.
 */
export function useRunEvents(handlerId: string | null): RunEvents {
  const { api, handleAuthError } = useConnection();
  const [state, setState] = useState<RunEvents & { handlerId: string | null }>({ ...EMPTY, handlerId: null });

  useEffect(() => {
    if (handlerId === null) return;
    const abort = new AbortController();
    setState({ ...EMPTY, handlerId });
    (async () => {
      try {
        for await (const ev of api.streamEvents(handlerId, abort.signal)) {
          setState((s) => {
            const last = s.events[s.events.length - 1];
            if (s.handlerId !== handlerId || (last && ev.sequence <= last.sequence)) return s;
            return { ...s, events: [...s.events, ev], ended: s.ended || isTerminal(ev) };
          });
        }
        if (!abort.signal.aborted) setState((s) => (s.handlerId === handlerId ? { ...s, ended: true } : s));
      } catch (error) {
        if (abort.signal.aborted || handleAuthError(error)) return;
        setState((s) => (s.handlerId === handlerId ? { ...s, error: describeError(error) } : s));
      }
    })();
    return () => abort.abort();
  }, [api, handlerId, handleAuthError]);

  return state.handlerId === handlerId ? state : EMPTY;
}
