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

/** The current time, re-rendering every second while `live` (for durations of running runs). */
export function useNow(live: boolean): number {
  const [, setTick] = useState(0);
  useInterval(() => setTick((t) => t + 1), live ? 1000 : null);
  return Date.now();
}
