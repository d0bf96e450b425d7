import { type ReactNode, useCallback } from "react";
import type { DebuggerApi } from "../api/debugger-api.js";
import type { Run } from "../api/types.js";
import { useConnection } from "../state/connection.js";
import { type ListPage, PolledList } from "./polled-list.js";

const PAGE = 50;

/**
 * A polled list of runs across workflows (the waiting and the blocked views): each row names its
 * workflow and opens the run, then says what its view is about (`line`, and `details` below it).
 */
export function RunsAcrossWorkflows(props: {
  headingId: string;
  title: string;
  label: string;
  empty: string;
  list: (
    api: DebuggerApi,
    limit: number,
    cursor: string | null,
  ) => Promise<{ runs: Run[]; cursor: string | null }>;
  onOpen: (workflow: string, handlerId: string) => void;
  line: (run: Run) => ReactNode;
  details: (run: Run) => ReactNode;
}) {
  const { api } = useConnection();
  const { list, onOpen, line, details } = props;
  const load = useCallback(
    async (cursor: string | null): Promise<ListPage<Run>> => {
      const page = await list(api, PAGE, cursor);
      return { items: page.runs, cursor: page.cursor };
    },
    [api, list],
  );
  return (
    <PolledList
      headingId={props.headingId}
      title={props.title}
      label={props.label}
      empty={props.empty}
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
            {line(run)}
          </div>
          {details(run)}
        </>
      )}
    </PolledList>
  );
}
