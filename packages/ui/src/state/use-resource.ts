import { useCallback, useEffect, useRef, useState } from "react";
import { type DebuggerApi, describeError } from "../api/debugger-api.js";
import { useConnection } from "./connection.js";

export interface Resource<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

const MAX_RETRY_MS = 15_000;

/**
 * Loads `load(api)` whenever `key` or the client changes (a new token reloads everything).
 * A null key loads nothing. Answers that arrive after the key changed are dropped. A failure that
 * may pass (no answer, a 5xx) is tried again with backoff, so panels recover when the server does.
 */
export function useResource<T>(key: string | null, load: (api: DebuggerApi) => Promise<T>): Resource<T> {
  const { api, handleAuthError } = useConnection();
  const [state, setState] = useState<{ key: string | null; data: T | undefined; error: string | null }>({
    key: null,
    data: undefined,
    error: null,
  });
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const failures = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is a new closure each render; key and api name what it loads
  useEffect(() => {
    if (key === null) return;
    let current = true;
    let retry = 0;
    load(api).then(
      (data) => {
        if (!current) return;
        failures.current = 0;
        setState({ key, data, error: null });
      },
      (error: unknown) => {
        if (!current) return;
        if (handleAuthError(error)) return;
        setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: describeError(error) }));
        const status = (error as { status?: unknown }).status;
        if (typeof status === "number" && status < 500) return;
        const wait = Math.min(MAX_RETRY_MS, 1000 * 2 ** failures.current++);
        retry = window.setTimeout(() => setNonce((n) => n + 1), wait);
      },
    );
    return () => {
      current = false;
      window.clearTimeout(retry);
    };
  }, [api, key, nonce, handleAuthError]);

  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : null,
    loading: key !== null && (!fresh || (state.data === undefined && state.error === null)),
    reload,
  };
}
