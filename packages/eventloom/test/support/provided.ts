// What the global setup (./global-setup.ts) could not provide, for the tests that need it.
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Why Chromium cannot be had here; "" when it can. */
    chromiumProblem: string;
    /** Why PostgreSQL cannot be had here; "" when it answers. */
    postgresProblem: string;
  }
}

/**
 * Throws the global setup's one line on why PostgreSQL or Chromium cannot be had here, if it left
 * one; `fallback` is the error seen by the test, shown too.
 */
export function requireProvided(what: "postgres" | "chromium", fallback?: unknown): void {
  let problem: string;
  try {
    problem = inject(what === "postgres" ? "postgresProblem" : "chromiumProblem");
  } catch {
    return; // outside a Vitest run (bench/ui launches Chromium too): no global setup said anything
  }
  if (problem) throw new Error(problem, fallback === undefined ? undefined : { cause: fallback });
}
