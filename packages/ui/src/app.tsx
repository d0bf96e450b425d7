import { useCallback, useEffect, useMemo, useState } from "react";
import type { Run, RunEvent, RunStatus } from "./api/types.js";
import { BlockedView } from "./components/blocked-view.js";
import { CompareView } from "./components/compare-view.js";
import { ConnectionBanner } from "./components/connection-banner.js";
import { EventLog } from "./components/event-log.js";
import { RunInput } from "./components/run-input.js";
import { RunList } from "./components/run-list.js";
import { RunSummary } from "./components/run-summary.js";
import { RunTree } from "./components/run-tree.js";
import { SchedulesView } from "./components/schedules-view.js";
import { humanResponseTypes, SendEventDialog, type SentEvent } from "./components/send-event-dialog.js";
import { StartForm } from "./components/start-form.js";
import { StepTimeline } from "./components/step-timeline.js";
import { WaitingView } from "./components/waiting-view.js";
import { WorkflowGraph } from "./components/workflow-graph.js";
import { WorkflowList } from "./components/workflow-list.js";
import { activityOf } from "./graph/activity.js";
import type { RunModel } from "./run/run-model.js";
import { type Route, useRoute } from "./state/route.js";
import { useResource } from "./state/use-resource.js";
import { useRunEvents } from "./state/use-run-events.js";
import { useRunList } from "./state/use-run-list.js";

export function App() {
  const { route, navigate, replace } = useRoute();
  const [includeInternal, setIncludeInternal] = useState(false);
  const [sending, setSending] = useState<{ type: string | null } | null>(null);
  const [answered, setAnswered] = useState<ReadonlySet<string>>(new Set());
  // What this page sent into each run: the server keeps a sent event's value only until a step took it.
  const [sent, setSent] = useState<ReadonlyMap<string, readonly SentEvent[]>>(new Map());
  const [status, setStatus] = useState<RunStatus | null>(null);
  const [pickedStep, setPickedStep] = useState<string | null>(null);

  const workflows = useResource("workflows", (api) => api.listWorkflows());
  // A workflow named by the URL that the server does not serve is said so, never swapped for another.
  const unknownWorkflow =
    route.workflow !== null && workflows.data !== undefined && !workflows.data.includes(route.workflow);
  const current = route.workflow ?? workflows.data?.[0] ?? null;
  const served = current !== null && workflows.data?.includes(current) === true ? current : null;
  const schema = useResource(served && `schema:${served}`, (api) => api.getSchema(served!));
  const eventSchemas = useResource(served && `events:${served}`, (api) => api.getEventSchemas(served!));
  const graph = useResource(served && `graph:${served}`, (api) => api.getGraph(served!));
  const list = useRunList(served, status);

  const runId = route.view === "run" ? route.run : null;
  const stream = useRunEvents(runId);
  const runRecord = useResource(runId && `run:${runId}:${stream.ended}`, (api) => api.getRun(runId!));
  const record = runRecord.data?.handlerId === runId ? runRecord.data : undefined;

  // A run opened under another workflow's name is shown with its own workflow's graph.
  useEffect(() => {
    if (record && route.workflow !== record.workflowName && route.view === "run")
      replace({ ...route, workflow: record.workflowName });
  }, [record, route, replace]);

  // The run's own record, once it ended, updates its row in the list (no wait for the next poll).
  const merge = list.merge;
  useEffect(() => {
    if (record) merge(record);
  }, [record, merge]);

  const run = freshest(
    list.runs.find((r) => r.handlerId === runId),
    record,
  );
  const model = runId ? stream.model : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the model changes in place; version says when
  const pendingInput = useMemo(
    () => (model && runId ? waitingInput(model, runId, answered) : null),
    [model, stream.version, runId, answered],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: the model changes in place; version says when
  const activity = useMemo(
    () => (model ? activityOf(model, pendingInput !== null) : null),
    [model, stream.version, pendingInput],
  );

  const go = useCallback((next: Partial<Route>) => navigate({ ...route, ...next }), [navigate, route]);
  const selectWorkflow = (name: string) => {
    setStatus(null);
    setPickedStep(null);
    navigate({ workflow: name, view: "new", run: null, compare: [] });
  };
  const selectRun = useCallback(
    (handlerId: string) => {
      setPickedStep(null);
      go({ workflow: current, view: "run", run: handlerId });
    },
    [go, current],
  );
  const openRun = useCallback(
    (workflow: string, handlerId: string) => navigate({ workflow, view: "run", run: handlerId, compare: [] }),
    [navigate],
  );
  // A re-run or fork started from the run view: shown at once, and listed.
  const refreshList = list.refresh;
  const started = useCallback(
    (handlerId: string) => {
      selectRun(handlerId);
      refreshList();
    },
    [selectRun, refreshList],
  );
  const [compare, setCompare] = useState<string[]>([]);
  // A comparison link picks its two runs in the list.
  const linked = route.view === "compare" ? route.compare.join("/") : "";
  useEffect(() => {
    if (linked) setCompare(linked.split("/"));
  }, [linked]);
  // Two runs picked go into the URL at once: the comparison is shown and can be shared.
  const toggleCompare = useCallback(
    (id: string) => {
      const next = compare.includes(id) ? compare.filter((x) => x !== id) : [...compare, id].slice(-2);
      setCompare(next);
      if (next.length === 2)
        navigate({ ...route, workflow: current, view: "compare", compare: next, run: null });
    },
    [compare, navigate, route, current],
  );
  const graphData = graph.data;
  const answer = useCallback(() => {
    const human = humanResponseTypes(graphData);
    setSending({ type: human[0] ?? null });
  }, [graphData]);
  const openSend = useCallback(() => setSending({ type: null }), []);

  return (
    <div className="app">
      <header className="topbar">
        <h1>Workflow Debugger</h1>
        {current && <span className="topbar-workflow">{current}</span>}
        <ConnectionBanner stream={runId ? stream : null} lists={[workflows.error, list.error]} />
      </header>
      <div className="layout">
        <aside className="left-panel" aria-label="Workflows and runs">
          <nav className="panel-section" aria-label="Every workflow's runs">
            {ACROSS_VIEWS.map(([view, title]) => (
              <button
                key={view}
                type="button"
                className={route.view === view ? "list-item selected" : "list-item"}
                aria-current={route.view === view ? "page" : undefined}
                onClick={() => navigate({ workflow: null, view, run: null, compare: [] })}
              >
                {title}
              </button>
            ))}
          </nav>
          <WorkflowList
            workflows={workflows.data}
            selected={served}
            onSelect={selectWorkflow}
            error={workflows.error}
          />
          {served && (
            <RunList
              workflow={served}
              list={list}
              status={status}
              onStatus={setStatus}
              selected={runId}
              onSelect={selectRun}
              compare={compare}
              onToggleCompare={toggleCompare}
              onCompare={() => go({ view: "compare", compare, run: null })}
              onNewRun={() => go({ view: "new", run: null })}
            />
          )}
        </aside>
        {route.view === "waiting" || route.view === "blocked" || route.view === "schedules" ? (
          <main className="center waiting-center">
            {route.view === "waiting" ? (
              <WaitingView onOpen={openRun} />
            ) : route.view === "blocked" ? (
              <BlockedView onOpen={openRun} />
            ) : (
              <SchedulesView onOpen={openRun} />
            )}
          </main>
        ) : (
          <main className="center">
            <section className="graph-panel" aria-label="Workflow graph">
              {unknownWorkflow ? (
                <p className="error-text" role="alert">
                  This server serves no workflow named “{route.workflow}”. Pick one from the list.
                </p>
              ) : graph.error ? (
                <p className="error-text">{graph.error}</p>
              ) : (
                <WorkflowGraph
                  graph={graph.data}
                  activity={activity}
                  live={runId !== null && !stream.ended}
                  picked={pickedStep}
                  onPick={setPickedStep}
                />
              )}
            </section>
            <div className="detail-panel">
              {route.view === "compare" && route.compare.length === 2 ? (
                <CompareView
                  ids={[route.compare[0]!, route.compare[1]!]}
                  onClose={() => window.history.back()}
                />
              ) : route.view === "run" && run ? (
                <>
                  <RunSummary
                    run={run}
                    model={model}
                    pendingInput={pendingInput}
                    onAnswer={answer}
                    onChanged={list.refresh}
                    sent={sent.get(run.handlerId) ?? NONE_SENT}
                  />
                  {record && <RunInput run={record} schema={schema.data?.start} onStarted={started} />}
                  {record && <RunTree run={record} onOpen={openRun} />}
                  {model && (
                    <StepTimeline
                      model={model}
                      version={stream.version}
                      step={pickedStep}
                      onClearStep={() => setPickedStep(null)}
                      handlerId={run.handlerId}
                      onForked={started}
                    />
                  )}
                </>
              ) : route.view === "run" && runRecord.error ? (
                <p className="error-text">{runRecord.error}</p>
              ) : route.view === "run" ? (
                <p className="muted">Loading the run…</p>
              ) : served && schema.data ? (
                <StartForm
                  key={served}
                  workflow={served}
                  schema={schema.data.start}
                  onStarted={(id) => {
                    selectRun(id);
                    list.refresh();
                  }}
                />
              ) : (
                <p className="muted">{schema.error ?? (served ? "Loading…" : "")}</p>
              )}
            </div>
          </main>
        )}
        <EventLog
          stream={runId ? stream : null}
          includeInternal={includeInternal}
          onIncludeInternal={setIncludeInternal}
          canSend={runId !== null && run?.status === "running" && eventSchemas.data !== undefined}
          onSend={openSend}
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
          pendingInput={pendingInput}
          onClose={() => setSending(null)}
          onSent={(event) => {
            setSent((m) => new Map(m).set(runId, [...(m.get(runId) ?? []), event]));
            if (pendingInput) setAnswered((s) => new Set(s).add(`${runId}#${pendingInput.sequence}`));
            setSending(null);
          }}
        />
      )}
    </div>
  );
}

const NONE_SENT: readonly SentEvent[] = [];

/** The sidebar's views across workflows, in its order. */
const ACROSS_VIEWS = [
  ["waiting", "Waiting for input"],
  ["blocked", "Blocked"],
  ["schedules", "Schedules"],
] as const;

/** Of two records of one run, the one that knows more: an ended run beats a running one. */
function freshest(a: Run | undefined, b: Run | undefined): Run | undefined {
  if (!a || !b) return a ?? b;
  if ((a.status === "running") !== (b.status === "running")) return a.status === "running" ? b : a;
  return (a.updatedAt ?? "") >= (b.updatedAt ?? "") ? a : b;
}

/** The latest input-required event no step has moved on from, unless it was answered from this page. */
function waitingInput(model: RunModel, runId: string, answered: ReadonlySet<string>): RunEvent | null {
  const last = model.lastInput;
  if (!last || last.movedOn || model.ending) return null;
  return answered.has(`${runId}#${last.event.sequence}`) ? null : last.event;
}
