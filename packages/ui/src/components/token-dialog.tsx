import { useState } from "react";
import { Dialog } from "./dialog.js";

/** Asks for the server's token after a 401. */
export function TokenDialog({
  rejected,
  onSubmit,
}: {
  rejected: boolean;
  onSubmit: (token: string) => void;
}) {
  const [token, setToken] = useState("");
  return (
    <Dialog title="This server needs a token" onClose={null}>
      <form
        className="dialog-body"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSubmit(token.trim());
        }}
      >
        <p>
          {rejected
            ? "The server did not accept that token. Enter the right one."
            : "The server asks for a bearer token. It is kept for this tab only."}
        </p>
        <label className="field">
          <span className="field-label">Token</span>
          <input
            type="password"
            autoComplete="off"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <div className="dialog-actions">
          <button type="submit" className="primary" disabled={token.trim() === ""}>
            Connect
          </button>
        </div>
      </form>
    </Dialog>
  );
}
