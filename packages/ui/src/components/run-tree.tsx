import type { Run } from "../api/types.js";
import { useResource } from "../state/use-resource.js";
import { StatusBadge } from "./status-badge.js";

/**
 * The run's place in its tree (`ctx.runWorkflow`): the run that started it and the runs it started,
 * each a link to its own view. Nothing for a run with neither.
 */
export function RunTree({
  run,
  onOpen,
}: {
  run: Run;
  onOpen: (workflow: string, handlerId: string) => void;
}) {
  const children = useResource(`children:${run.handlerId}:${run.status}`, (api) =>
    api.listChildren(run.handlerId),
  );
  const parentId = run.parentHandlerId ?? null;
  const parent = useResource(parentId && `run:${parentId}`, (api) => api.getRun(parentId!));
  const kids = children.data ?? [];
  if (!parentId && kids.length === 0) return null;
  return (
    <section className="card run-tree" aria-labelledby="tree-heading">
      <h2 id="tree-heading" className="section-title">
        Run tree
      </h2>
      {parentId && (
        <p>
          Started by{" "}
          <a
            className="mono"
            href={`#/${parent.data?.workflowName ?? ""}/runs/${parentId}`}
            onClick={(e) => {
              if (!parent.data) return;
              e.preventDefault();
              onOpen(parent.data.workflowName, parentId);
            }}
          >
            {parentId}
          </a>
        </p>
      )}
      {kids.length > 0 && (
        <ul aria-label="Runs it started" className="tree-children">
          {kids.map((c) => (
            <li key={c.handlerId} data-handler-id={c.handlerId}>
              <a
                className="mono"
                href={`#/${c.workflowName}/runs/${c.handlerId}`}
                onClick={(e) => {
                  e.preventDefault();
                  onOpen(c.workflowName, c.handlerId);
                }}
              >
                {c.handlerId}
              </a>{" "}
              <span className="muted">{c.workflowName}</span> <StatusBadge status={c.status} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
