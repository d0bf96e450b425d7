import { useCallback, useEffect, useState } from "react";
import { type DebuggerApi, describeError } from "../api/debugger-api.js";
import { useConnection } from "./connection.js";

export interface Resource<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load(api)` whenever `key` or the client changes (a new token reloads everything).
 * A null key loads nothing. Answers that arrive after the key changed are dropped.
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

  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is a new closure each render; key and api name what it loads
  useEffect(() => {
    if (key === null) return;
    let current = true;
    load(api).then(
      (data) => current && setState({ key, data, error: null }),
      (error: unknown) => {
        if (!current) return;
        if (handleAuthError(error)) return;
        setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: describeError(error) }));
      },
    );
    return () => {
      current = false;
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
