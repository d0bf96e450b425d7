import type { Run } from "../api/types.js";
import type { EventError, RunModel } from "../run/run-model.js";

const TITLE = {
  failed: "Failed",
  "timed-out": "Timed out",
  cancelled: "Cancelled",
  completed: "Ended",
} as const;

/**
 * Why a run did not complete, with all its events carry: the failed step, the attempts, the error's
 * name, message and stack, and the errors of the earlier attempts that were retried.
 */
export function FailureBox({ run, model }: { run: Run; model: RunModel | null }) {
  const ending = model?.ending ?? null;
  const kind = ending?.kind ?? (run.status === "cancelled" ? "cancelled" : "failed");
  const earlier = model?.executions.filter((e) => e.error && e.outcome === "retried") ?? [];
  const timedOut = kind === "timed-out";
  return (
    <div className={`run-error end-${kind}`} role={kind === "cancelled" ? "status" : "alert"}>
      <strong>{TITLE[kind]}</strong>
      {ending?.step && (
        <p>
          in step <span className="mono">{ending.step}</span>
          {ending.attempts !== null && ` after ${ending.attempts} attempt${ending.attempts === 1 ? "" : "s"}`}
        </p>
      )}
      {timedOut && ending && ending.activeSteps.length > 0 && (
        <p>
          Steps at work: <span className="mono">{ending.activeSteps.join(", ")}</span>
        </p>
      )}
      {kind !== "cancelled" && (
        <pre className="json">
          {ending?.error
            ? errorText(ending.error)
            : (run.error ?? (timedOut ? "The run's timeout passed." : "The run failed."))}
        </pre>
      )}
      {earlier.length > 0 && (
        <details className="attempts" open>
          <summary>Earlier attempts ({earlier.length})</summary>
          <ol>
            {earlier.map((e) => (
              <li key={e.index} data-attempt={e.attempt}>
                <span className="mono">{e.step}</span> attempt {e.attempt}: {e.error!.name}:{" "}
                {e.error!.message}
                {e.error!.stack && (
                  <details>
                    <summary>Stack</summary>
                    <pre className="json">{e.error!.stack}</pre>
                  </details>
                )}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

/** An error as its stack shows it (which starts with its name and message), or its name and message. */
function errorText(error: EventError): string {
  const head = `${error.name}: ${error.message}`;
  if (!error.stack) return head;
  return error.stack.startsWith(head) ? error.stack : `${head}\n${error.stack}`;
}
