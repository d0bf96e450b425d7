import type { DebuggerApi } from "../api/debugger-api.js";
import type { Run } from "../api/types.js";
import { toJsonText } from "../format.js";
import { Elapsed } from "./elapsed.js";
import { RunsAcrossWorkflows } from "./runs-across-workflows.js";

const listWaiting = (api: DebuggerApi, limit: number, cursor: string | null) =>
  api.listWaiting(limit, cursor);

/**
 * Every run that waits for a person, across workflows, with the question it asks: the first page
 * polled (a small answer: only waiting runs), older ones on demand. Opening one shows it with its
 * Answer button.
 */
export function WaitingView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  return (
    <RunsAcrossWorkflows
      headingId="waiting-heading"
      title="Waiting for input"
      label="Runs waiting for input"
      empty="No run waits for input."
      list={listWaiting}
      onOpen={onOpen}
      line={(run: Run) => (
        <span className="muted">
          waiting · started <Elapsed start={run.startedAt} end={null} /> ago
        </span>
      )}
      details={(run: Run) =>
        run.waitingFor && (
          <div className="waiting-question">
            <strong>{run.waitingFor.type}</strong>
            <pre className="json">{toJsonText(run.waitingFor.value)}</pre>
          </div>
        )
      }
    />
  );
}
