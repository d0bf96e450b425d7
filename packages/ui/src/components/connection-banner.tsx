import { isRefusal } from "../state/refusal.js";
import { useNow } from "../state/use-interval.js";
import type { RunEvents } from "../state/use-run-events.js";

/**
 * The state of the connection to the server, always visible in the top bar: connected, or lost
 * with when the next try is due. Panels keep their last data meanwhile and recover by themselves.
 */
export function ConnectionBanner({
  stream,
  lists,
}: {
  stream: RunEvents | null;
  /** Errors of the polled lists: any one means the server is not answering. */
  lists: (string | null)[];
}) {
  const listError = lists.find((e) => e !== null) ?? null;
  const lost = stream?.retryAt != null || listError !== null;
  const now = useNow(lost);
  const wait = stream?.retryAt != null ? Math.max(0, Math.ceil((stream.retryAt - now) / 1000)) : null;
  // Refused (a Host or an origin the server does not allow): retrying will not help; the panels say why.
  const refused = lists.find(isRefusal) ?? null;
  if (refused !== null) {
    return (
      <output className="connection connection-lost" aria-live="polite" title={refused}>
        <span aria-hidden="true">○</span> Refused by the server
      </output>
    );
  }
  return (
    <output className={`connection ${lost ? "connection-lost" : "connection-ok"}`} aria-live="polite">
      <span aria-hidden="true">{lost ? "○" : "●"}</span>{" "}
      {lost ? `Connection lost${wait !== null ? `, retrying in ${wait} s` : ", retrying"}` : "Connected"}
    </output>
  );
}
