import { useState } from "react";
import { type DebuggerApi, describeError } from "../api/debugger-api.js";
import { useConnection } from "./connection.js";

export interface Action {
  pending: boolean;
  /** What went wrong the last time, in words; a 401 asks for the token instead. */
  error: string | null;
  run: (work: (api: DebuggerApi) => Promise<void>) => Promise<void>;
}

/** One thing a person asks the server to do (start, send, cancel), with its pending state and error. */
export function useAction(): Action {
  const { api, handleAuthError } = useConnection();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return {
    pending,
    error,
    run: async (work) => {
      setPending(true);
      setError(null);
      try {
        await work(api);
      } catch (err) {
        if (!handleAuthError(err)) setError(describeError(err));
      } finally {
        setPending(false);
      }
    },
  };
}
