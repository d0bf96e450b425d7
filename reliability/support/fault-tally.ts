// What the contained-faults tests count for each fault: faults injected, the client's answers by
// status, acknowledged work lost, and how long recovery took; reported like every other figure.
import { readFileSync, statSync } from "node:fs";
import { WorkflowClientError, WorkflowNetworkError } from "eventloom/client";
import { percentile, reportFigures } from "./figures.js";

/** One answer of the server: its status (0: no answer, the connection failed) and what it carried. */
export type Answer<T> =
  | { ok: true; status: 200; value: T }
  | { ok: false; status: number; error: WorkflowClientError | WorkflowNetworkError };

export class FaultTally {
  faults = 0;
  lost = 0;
  readonly #answers = new Map<string, number>();
  readonly #recoveries: number[] = [];

  /** Calls the client and counts its answer by status (a client error is an answer, not a throw). */
  async answer<T>(call: Promise<T>): Promise<Answer<T>> {
    try {
      const value = await call;
      this.count(200);
      return { ok: true, status: 200, value };
    } catch (error) {
      if (error instanceof WorkflowClientError) {
        this.count(error.status, error.code);
        return { ok: false, status: error.status, error };
      }
      if (error instanceof WorkflowNetworkError) {
        this.count(0, "no answer");
        return { ok: false, status: 0, error };
      }
      throw error;
    }
  }

  /** Counts an answer got some other way (a raw fetch, a process's exit). */
  count(status: number, code?: string): void {
    const key = code === undefined ? String(status) : `${status} ${code}`;
    this.#answers.set(key, (this.#answers.get(key) ?? 0) + 1);
  }

  recovered(ms: number): void {
    this.#recoveries.push(ms);
  }

  /** The figures of the section: the common ones, then `extra`. */
  report(section: string, extra: Record<string, number | string | boolean>): void {
    const answers = [...this.#answers].sort(([a], [b]) => a.localeCompare(b));
    reportFigures(section, {
      faults_injected: this.faults,
      client_answers: answers.map(([k, n]) => `${k}: ${n}`).join(", "),
      acknowledged_lost: this.lost,
      recovery_ms_p50: Math.round(percentile(this.#recoveries, 50)),
      recovery_ms_max: Math.round(Math.max(...this.#recoveries)),
      ...extra,
    });
  }
}

/** Milliseconds since `start` (a `performance.now()`). */
export const since = (start: number): number => performance.now() - start;

/** A process's resident memory in MiB (Linux). */
export function rssMib(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The bytes of a SQLite database and its WAL. */
export function databaseBytes(path: string): number {
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += statSync(file).size;
    } catch {
      // no WAL right now
    }
  }
  return bytes;
}
