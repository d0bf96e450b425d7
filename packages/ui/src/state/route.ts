import { useCallback, useEffect, useState } from "react";

/** What the page shows, as its URL says: it survives reloads, back and forward, and can be shared. */
export interface Route {
  workflow: string | null;
  /**
   * `waiting`: the runs that wait for input, across workflows (`#/~waiting`); `blocked`: the blocked
   * runs, across workflows (`#/~blocked`); `schedules`: `#/~schedules`.
   */
  view: "new" | "run" | "compare" | "waiting" | "blocked" | "schedules";
  run: string | null;
  /** The two runs compared. */
  compare: string[];
}

const seg = encodeURIComponent;

/**
 * `#/<workflow>`, `#/<workflow>/runs/<id>`, `#/<workflow>/compare/<id>/<id>` (and the older
 * `#/<workflow>/<id>`), `#/~waiting`, `#/~blocked` and `#/~schedules`.
 */
export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [workflow = null, kind, a, b] = parts;
  const across = ACROSS.find(([, segment]) => segment === workflow);
  if (across) return { workflow: null, view: across[0], run: null, compare: [] };
  if (kind === "compare" && a && b) return { workflow, view: "compare", run: null, compare: [a, b] };
  if (kind === "runs" && a) return { workflow, view: "run", run: a, compare: [] };
  if (kind && kind !== "runs" && kind !== "compare") return { workflow, view: "run", run: kind, compare: [] };
  return { workflow, view: "new", run: null, compare: [] };
}

/** The views across workflows and their first segment: `~` never starts a name the debugger links to. */
const ACROSS = [
  ["waiting", "~waiting"],
  ["blocked", "~blocked"],
  ["schedules", "~schedules"],
] as const;

export function formatRoute(route: Route): string {
  const across = ACROSS.find(([view]) => view === route.view);
  if (across) return `#/${across[1]}`;
  if (!route.workflow) return "";
  const base = `#/${seg(route.workflow)}`;
  if (route.view === "run" && route.run) return `${base}/runs/${seg(route.run)}`;
  if (route.view === "compare" && route.compare.length === 2)
    return `${base}/compare/${seg(route.compare[0]!)}/${seg(route.compare[1]!)}`;
  return base;
}

/**
 * The route in the URL's hash. `navigate` pushes a history entry (back returns), `replace` does not;
 * a link pasted into the tab, back and forward all change the route.
 */
export function useRoute(): {
  route: Route;
  navigate: (route: Route) => void;
  replace: (route: Route) => void;
} {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const read = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("popstate", read);
    window.addEventListener("hashchange", read);
    return () => {
      window.removeEventListener("popstate", read);
      window.removeEventListener("hashchange", read);
    };
  }, []);
  const go = useCallback((next: Route, push: boolean) => {
    const hash = formatRoute(next);
    if (window.location.hash !== hash) {
      // The page's own path, not one relative to its <base> (which may end in a slash it does not have).
      const url = window.location.pathname + window.location.search + hash;
      if (push) window.history.pushState(null, "", url);
      else window.history.replaceState(null, "", url);
    }
    setRoute(next);
  }, []);
  const navigate = useCallback((next: Route) => go(next, true), [go]);
  const replace = useCallback((next: Route) => go(next, false), [go]);
  return { route, navigate, replace };
}
