import { useEffect, useRef, useState } from "react";

/** Calls `callback` every `ms` milliseconds while `ms` is not null. */
export function useInterval(callback: () => void, ms: number | null): void {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const id = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

/** The current time, ticking every second while `live` (for durations of running runs). */
export function useNow(live: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), live ? 1000 : null);
  return live ? now : Date.now();
}
