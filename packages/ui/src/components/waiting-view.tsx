import { useCallback } from "react";
import type { Run } from "../api/types.js";
import { toJsonText } from "../format.js";
import { useConnection } from "../state/connection.js";
import { Elapsed } from "./elapsed.js";
import { type ListPage, PolledList } from "./polled-list.js";

const PAGE = 50;

/**
 * Every run that waits for a person, across workflows, with the question it asks: the first page
 * polled (a small answer: only waiting runs), older ones on demand. Opening one shows it with its
 * Answer button.
 */
export function WaitingView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  const { api } = useConnection();
  const load = useCallback(
    async (cursor: string | null): Promise<ListPage<Run>> => {
      const page = await api.listWaiting(PAGE, cursor);
      return { items: page.runs, cursor: page.cursor };
    },
    [api],
  );
  return (
    <PolledList
      headingId="waiting-heading"
      title="Waiting for input"
      label="Runs waiting for input"
      empty="No run waits for input."
      load={load}
      keyOf={(run) => run.handlerId}
      itemAttributes={(run) => ({ "data-handler-id": run.handlerId })}
    >
      {(run) => (
        <>
          <div className="waiting-line">
            <span className="tag">{run.workflowName}</span>
            <button
              type="button"
              className="link-button mono"
              onClick={() => onOpen(run.workflowName, run.handlerId)}
            >
              {run.handlerId}
            </button>
            <span className="muted">
              waiting · started <Elapsed start={run.startedAt} end={null} /> ago
            </span>
          </div>
          {run.waitingFor && (
            <div className="waiting-question">
              <strong>{run.waitingFor.type}</strong>
              <pre className="json">{toJsonText(run.waitingFor.value)}</pre>
            </div>
          )}
        </>
      )}
    </PolledList>
  );
}
