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
    // Events arrive in bursts (a replay is all at once): they are appended once per frame, not one by one.
    let pending: RunEvent[] = [];
    let scheduled = 0;
    const flush = () => {
      scheduled = 0;
      const batch = pending;
      pending = [];
      setState((s) => {
        if (s.handlerId !== handlerId) return s;
        let last = s.events[s.events.length - 1]?.sequence ?? -1;
        const fresh: RunEvent[] = [];
        for (const ev of batch) {
          if (ev.sequence <= last) continue;
          fresh.push(ev);
          last = ev.sequence;
        }
        if (fresh.length === 0) return s;
        return { ...s, events: [...s.events, ...fresh], ended: s.ended || fresh.some(isTerminal) };
      });
    };
    (async () => {
      try {
        for await (const ev of api.streamEvents(handlerId, abort.signal)) {
          pending.push(ev);
          scheduled ||= window.setTimeout(flush, 16);
        }
        if (abort.signal.aborted) return;
        flush();
        setState((s) => (s.handlerId === handlerId ? { ...s, ended: true } : s));
      } catch (error) {
        if (abort.signal.aborted || handleAuthError(error)) return;
        flush();
        setState((s) => (s.handlerId === handlerId ? { ...s, error: describeError(error) } : s));
      }
    })();
    return () => {
      abort.abort();
      window.clearTimeout(scheduled);
    };
  }, [api, handlerId, handleAuthError]);

  return state.handlerId === handlerId ? state : EMPTY;
}
