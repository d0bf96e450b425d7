import { useEffect, useMemo, useState } from "react";
import { EVENT_NAMES, isInputRequired, type Run, type RunEvent } from "./api/types.js";
import { CompareView } from "./components/compare-view.js";
import { EventLog } from "./components/event-log.js";
import { RunList } from "./components/run-list.js";
import { RunSummary } from "./components/run-summary.js";
import { humanResponseTypes, SendEventDialog } from "./components/send-event-dialog.js";
import { StartForm } from "./components/start-form.js";
import { WorkflowGraph } from "./components/workflow-graph.js";
import { WorkflowList } from "./components/workflow-list.js";
import { graphActivity } from "./graph/activity.js";
import { useInterval } from "./state/use-interval.js";
import { useResource } from "./state/use-resource.js";
import { useRunEvents } from "./state/use-run-events.js";

type View = "new" | "run" | "compare";

const RUNS_POLL_MS = 1500;
const RUNS_PAGE = 25;

/** `#/<workflow>/<handler id>`: what is shown survives a reload and can be shared. */
function readHash(): { workflow: string | null; run: string | null } {
  const [workflow, run] = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { workflow: workflow || null, run: run || null };
}

export function App() {
  const initial = useMemo(readHash, []);
  const [workflow, setWorkflow] = useState<string | null>(initial.workflow);
  const [runId, setRunId] = useState<string | null>(initial.run);
  const [view, setView] = useState<View>(initial.run ? "run" : "new");
  const [compare, setCompare] = useState<string[]>([]);
  const [includeInternal, setIncludeInternal] = useState(false);
  const [sending, setSending] = useState<{ type: string | null } | null>(null);
  const [answered, setAnswered] = useState<ReadonlySet<string>>(new Set());

  const workflows = useResource("workflows", (api) => api.listWorkflows());
  // A workflow named by the URL that the server does not serve falls back to the first one.
  const current =
    workflow !== null && workflows.data?.includes(workflow) !== false
      ? workflow
      : (workflows.data?.[0] ?? null);
  const schema = useResource(current && `schema:${current}`, (api) => api.getSchema(current!));
  const eventSchemas = useResource(current && `events:${current}`, (api) => api.getEventSchemas(current!));
  const graph = useResource(current && `graph:${current}`, (api) => api.getGraph(current!));
  // The list is the newest page of runs, re-read while shown; "older runs" makes the page longer.
  const [runLimit, setRunLimit] = useState(RUNS_PAGE);
  const runs = useResource(current && `runs:${current}`, (api) => api.listRuns(current!, runLimit));
  useInterval(() => document.hidden || runs.reload(), current ? RUNS_POLL_MS : null);

  const stream = useRunEvents(view === "run" ? runId : null);
  const runRecord = useResource(runId && `run:${runId}:${stream.ended}`, (api) => api.getRun(runId!));
  const reloadRuns = runs.reload;
  useEffect(() => {
    if (stream.ended) reloadRuns();
  }, [stream.ended, reloadRuns]);

  useEffect(() => {
    const hash = current
      ? `#/${encodeURIComponent(current)}${runId ? `/${encodeURIComponent(runId)}` : ""}`
      : "";
    if (window.location.hash !== hash)
      window.history.replaceState(null, "", hash || window.location.pathname);
  }, [current, runId]);

  const run = freshest(
    runs.data?.runs.find((r) => r.handlerId === runId),
    runRecord.data?.handlerId === runId ? runRecord.data : undefined,
  );
  const activity = useMemo(
    () => (view === "run" ? graphActivity(stream.events) : null),
    [view, stream.events],
  );
  const pendingInput = runId && !stream.ended ? waitingInput(stream.events, runId, answered) : null;
  const compared = compare
    .map((id) => runs.data?.runs.find((r) => r.handlerId === id))
    .filter((r): r is Run => r !== undefined);

  const selectWorkflow = (name: string) => {
    setWorkflow(name);
    setRunId(null);
    setCompare([]);
    setRunLimit(RUNS_PAGE);
    setView("new");
  };
  const selectRun = (handlerId: string) => {
    setRunId(handlerId);
    setView("run");
  };
  const answer = () => {
    const human = humanResponseTypes(graph.data);
    setSending({ type: human[0] ?? null });
  };

  return (
    <div className="app">
      <header className="topbar">
        <h1>Workflow Debugger</h1>
        {current && <span className="topbar-workflow">{current}</span>}
      </header>
      <div className="layout">
        <aside className="left-panel" aria-label="Workflows and runs">
          <WorkflowList
            workflows={workflows.data}
            selected={current}
            onSelect={selectWorkflow}
            error={workflows.error}
          />
          {current && (
            <RunList
              runs={runs.data?.runs}
              more={runs.data?.more ?? false}
              onMore={() => {
                setRunLimit((n) => Math.min(n + RUNS_PAGE, 1000));
                runs.reload();
              }}
              error={runs.error}
              selected={view === "run" ? runId : null}
              onSelect={selectRun}
              compare={compare}
              onToggleCompare={(id) =>
                setCompare((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)))
              }
              onCompare={() => setView("compare")}
              onNewRun={() => setView("new")}
            />
          )}
        </aside>
        <main className="center">
          <section className="graph-panel" aria-label="Workflow graph">
            {graph.error ? (
              <p className="error-text">{graph.error}</p>
            ) : (
              <WorkflowGraph graph={graph.data} activity={activity} live={view === "run" && !stream.ended} />
            )}
          </section>
          <div className="detail-panel">
            {view === "compare" && compared.length === 2 ? (
              <CompareView
                runs={[compared[0]!, compared[1]!]}
                onClose={() => setView(runId ? "run" : "new")}
              />
            ) : view === "run" && run ? (
              <RunSummary run={run} pendingInput={pendingInput} onAnswer={answer} onChanged={runs.reload} />
            ) : view === "run" && runRecord.error ? (
              <p className="error-text">{runRecord.error}</p>
            ) : current && schema.data ? (
              <StartForm
                key={current}
                workflow={current}
                schema={schema.data.start}
                onStarted={(id) => {
                  selectRun(id);
                  runs.reload();
                }}
              />
            ) : (
              <p className="muted">{schema.error ?? (current ? "Loading…" : "")}</p>
            )}
          </div>
        </main>
        <EventLog
          stream={view === "run" ? stream : null}
          includeInternal={includeInternal}
          onIncludeInternal={setIncludeInternal}
          canSend={view === "run" && run?.status === "running" && eventSchemas.data !== undefined}
          onSend={() => setSending({ type: null })}
          onAnswer={answer}
          pendingInput={pendingInput}
        />
      </div>
      {sending && runId && eventSchemas.data && (
        <SendEventDialog
          handlerId={runId}
          events={eventSchemas.data}
          graph={graph.data}
          initialType={sending.type}
          onClose={() => setSending(null)}
          onSent={() => {
            if (pendingInput) setAnswered((s) => new Set(s).add(`${runId}#${pendingInput.sequence}`));
            setSending(null);
          }}
        />
      )}
    </div>
  );
}

/** Of two records of one run, the one that knows more: an ended run beats a running one. */
function freshest(a: Run | undefined, b: Run | undefined): Run | undefined {
  if (!a || !b) return a ?? b;
  if ((a.status === "running") !== (b.status === "running")) return a.status === "running" ? b : a;
  return (a.updatedAt ?? "") >= (b.updatedAt ?? "") ? a : b;
}

/** The latest input-required event no step has moved on from, unless it was answered from this page. */
function waitingInput(
  events: readonly RunEvent[],
  runId: string,
  answered: ReadonlySet<string>,
): RunEvent | null {
  const index = events.findLastIndex(isInputRequired);
  const ev = events[index];
  if (!ev || answered.has(`${runId}#${ev.sequence}`)) return null;
  const movedOn = events
    .slice(index + 1)
    .some((e) => e.qualifiedName === EVENT_NAMES.stepState && e.value["state"] === "running");
  return movedOn ? null : ev;
}
