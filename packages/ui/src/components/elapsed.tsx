import { formatDuration } from "../format.js";
import { useNow } from "../state/use-interval.js";

/**
 * How long something took, or has taken so far. Only this text re-renders each second while it
 * runs: the clock never redraws the list or the page around it.
 */
export function Elapsed({ start, end }: { start: string; end: string | null }) {
  const now = useNow(end === null);
  const to = end ? Date.parse(end) : now;
  // The server's clock may run a little ahead of the browser's.
  const ms = Math.max(0, to - Date.parse(start));
  return <>{ms < 1 && end ? "< 1 ms" : formatDuration(ms)}</>;
}
