/** A time of day (with the date when it is not today), in the reader's locale. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return sameDay ? time : `${date.toLocaleDateString()} ${time}`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** How long a run took, or has taken so far. */
export function runDuration(startedAt: string, completedAt: string | null, now: number): string {
  const end = completedAt ? Date.parse(completedAt) : now;
  // The server's clock may run a little ahead of the browser's.
  return formatDuration(Math.max(0, end - Date.parse(startedAt)));
}

/** Milliseconds and all, for the events log. */
export function formatPreciseTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const hms = date.toLocaleTimeString(undefined, { hour12: false });
  return `${hms}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

/** JSON for reading: indented, and `undefined` spelled out. */
export function toJsonText(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value, null, 2);
}
