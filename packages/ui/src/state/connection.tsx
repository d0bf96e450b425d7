import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { DebuggerApi, isUnauthorized } from "../api/debugger-api.js";
import { TokenDialog } from "../components/token-dialog.js";

const TOKEN_KEY = "workflows-debugger.token";

interface Connection {
  api: DebuggerApi;
  /** Call with any error a request threw: a 401 asks for a token and returns true. */
  handleAuthError: (error: unknown) => boolean;
}

const ConnectionContext = createContext<Connection | null>(null);

/**
 * The server's API lives where the page was served from, whatever the mount path: the document's
 * base, which the server sets when the page is asked for at its base path without a trailing slash.
 */
function serverBaseUrl(): string {
  return new URL(".", document.baseURI).href.replace(/\/$/, "");
}

function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/**
 * Holds the client and the token. A 401 from any call opens the token dialog once; the token is kept in
 * sessionStorage (this tab only), and a new client built from it makes every view load again.
 */
export function ConnectionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(readToken);
  const [asking, setAsking] = useState(false);
  const api = useMemo(() => new DebuggerApi(serverBaseUrl(), token), [token]);

  const handleAuthError = useCallback((error: unknown) => {
    if (!isUnauthorized(error)) return false;
    setAsking(true);
    return true;
  }, []);

  const submit = (value: string) => {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, value);
    } catch {
      // Storage may be disabled; the token then lasts as long as the page.
    }
    setAsking(false);
    setToken(value);
  };

  const connection = useMemo(() => ({ api, handleAuthError }), [api, handleAuthError]);
  return (
    <ConnectionContext.Provider value={connection}>
      {children}
      {asking && <TokenDialog rejected={token !== null} onSubmit={submit} />}
    </ConnectionContext.Provider>
  );
}

export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error("useConnection must be used inside <ConnectionProvider>");
  return connection;
}
