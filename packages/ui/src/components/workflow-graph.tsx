import {
  applyNodeChanges,
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
  type ReactFlowInstance,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { EVENT_NAMES, type WorkflowGraph as Graph, type GraphNode } from "../api/types.js";
import { eventKey, type GraphActivity } from "../graph/activity.js";
import { layoutGraph, nodeWidth } from "../graph/layout.js";

interface NodeData extends Record<string, unknown> {
  node: GraphNode;
  /** Workers busy on this step now. */
  running: number;
  /** Times this step ran, or this event fired, in the shown run. */
  count: number;
  /** Sequence of the event's latest firing: a change restarts the flash. */
  lastSequence: number | null;
  live: boolean;
  failed: boolean;
  waiting: boolean;
  picked: boolean;
}

type FlowNode = Node<NodeData, "workflow">;

function WorkflowNode({ data }: NodeProps<FlowNode>) {
  const { node, running, lastSequence, live, failed, waiting, picked } = data;
  const state = nodeState(data);
  const classes = [
    "wf-node",
    `wf-${node.nodeType}`,
    running > 0 ? "is-running" : "",
    state.key === "done" ? "has-fired" : "",
    failed ? "is-failed" : "",
    waiting ? "is-waiting" : "",
    picked ? "is-picked" : "",
  ].join(" ");
  return (
    <div
      className={classes}
      data-node-id={node.id}
      data-state={state.key}
      title={`${kindName(node)}: ${node.label}`}
      // The width ELK laid the node out with, so that a state badge never makes nodes overlap.
      style={{ width: nodeWidth(node.label) }}
    >
      <Handle type="target" position={Position.Top} />
      {live && lastSequence !== null && <span key={lastSequence} className="flash" aria-hidden="true" />}
      <span className="wf-kind" aria-hidden="true">
        {node.nodeType === "step" ? "ƒ" : node.nodeType === "event" ? "◆" : "☺"}
      </span>
      <span className="wf-label">{node.label}</span>
      {state.text && <span className="wf-state">{state.text}</span>}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

const kindName = (node: GraphNode) =>
  node.nodeType === "step" ? "step" : node.nodeType === "event" ? "event" : "outside input";

/** A node's state in one word (for tests and styles) and in words (for its badge and its label). */
function nodeState(d: NodeData): { key: string; text: string } {
  if (d.failed) return { key: "failed", text: "failed" };
  if (d.running > 0) return { key: "running", text: `running (${d.running})` };
  if (d.waiting) return { key: "waiting", text: "waiting for input" };
  if (d.count > 0)
    return { key: "done", text: d.node.nodeType === "step" ? `ran ${d.count}×` : `fired ${d.count}×` };
  return { key: "idle", text: "" };
}

// Labels stay at least 12 px (13 px text × zoom) when the graph has up to this many nodes; beyond, it pans.
const READABLE_NODES = 30;
const READABLE_ZOOM = 0.93;

const nodeTypes = { workflow: WorkflowNode };
// At least 3:1 against the light and the dark background (the stroke itself follows --edge).
const EDGE_COLOR = "#7d8794";

/**
 * The workflow's graph, laid out top to bottom. Nodes can be dragged; the controls zoom and fit.
 * With a run's activity it marks the steps at work, waiting or failed, and the events that fired.
 * Picking a step (click, Enter) narrows the step timeline to it.
 */
export const WorkflowGraph = memo(function WorkflowGraph({
  graph,
  activity,
  live,
  picked,
  onPick,
}: {
  graph: Graph | undefined;
  activity: GraphActivity | null;
  live: boolean;
  picked: string | null;
  onPick: (step: string | null) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [laidOut, setLaidOut] = useState<{ graph: Graph; nodes: FlowNode[] } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);

  useEffect(() => {
    if (!graph) return;
    let current = true;
    layoutGraph(graph).then(
      (positions) => {
        if (!current) return;
        const byId = new Map(positions.map((p) => [p.id, p]));
        const nodes = graph.nodes.map(
          (node): FlowNode => ({
            id: node.id,
            type: "workflow",
            position: { x: byId.get(node.id)?.x ?? 0, y: byId.get(node.id)?.y ?? 0 },
            data: {
              node,
              running: 0,
              count: 0,
              lastSequence: null,
              live: false,
              failed: false,
              waiting: false,
              picked: false,
            },
          }),
        );
        setLaidOut({ graph, nodes });
        setLayoutError(null);
      },
      (error: unknown) => current && setLayoutError(String(error)),
    );
    return () => {
      current = false;
    };
  }, [graph]);

  const edges = useMemo<Edge[]>(
    () =>
      (graph?.edges ?? []).map((e, i) => ({
        id: `${e.source}->${e.target}#${i}`,
        source: e.source,
        target: e.target,
        markerEnd: { type: MarkerType.ArrowClosed, color: EDGE_COLOR },
        animated: (activity?.running.get(e.source) ?? 0) > 0,
      })),
    [graph, activity],
  );

  // Steps fed by an event that extends HumanResponseEvent: they wait while the run asks for input.
  const humanTakers = useMemo(() => {
    const human = new Set(
      (graph?.nodes ?? [])
        .filter((n) => n.nodeType === "event" && n.eventTypes.includes(EVENT_NAMES.humanResponse))
        .map((n) => n.id),
    );
    return new Set((graph?.edges ?? []).filter((e) => human.has(e.source)).map((e) => e.target));
  }, [graph]);

  const nodes = useMemo(() => {
    if (!laidOut || laidOut.graph !== graph) return [];
    return laidOut.nodes.map((n): FlowNode => {
      const node = n.data.node;
      const fired = node.nodeType === "event" ? activity?.fired.get(eventKey(node)) : undefined;
      const data: NodeData = {
        node,
        running: node.nodeType === "step" ? (activity?.running.get(node.id) ?? 0) : 0,
        count: node.nodeType === "step" ? (activity?.stepRuns.get(node.id) ?? 0) : (fired?.count ?? 0),
        lastSequence: fired?.lastSequence ?? null,
        live,
        failed: node.nodeType === "step" && activity?.failedStep === node.id,
        waiting:
          node.nodeType === "step" &&
          (activity?.running.get(node.id) ?? 0) === 0 &&
          ((activity?.waiting.has(node.id) ?? false) ||
            (activity?.awaitingInput === true && humanTakers.has(node.id))),
        picked: picked === node.id,
      };
      const state = nodeState(data).text;
      return { ...n, data, ariaLabel: `${kindName(node)} ${node.label}${state ? `, ${state}` : ""}` };
    });
  }, [laidOut, graph, activity, live, picked, humanTakers]);

  const pick = (id: string | undefined) => {
    const node = graph?.nodes.find((n) => n.id === id);
    if (node?.nodeType === "step") onPick(picked === node.id ? null : node.id);
  };

  /** Fits the graph, but never below a readable zoom for small graphs: then it starts at the top. */
  const onInit = (flow: ReactFlowInstance<FlowNode>) => {
    const el = box.current;
    if (!el || nodes.length === 0) return;
    const xs = nodes.map((n) => n.position.x);
    const ys = nodes.map((n) => n.position.y);
    const right = Math.max(...nodes.map((n) => n.position.x + nodeWidth(n.data.node.label)));
    const bottom = Math.max(...ys) + 40;
    const left = Math.min(...xs);
    const top = Math.min(...ys);
    // Room above the first node for its state badge.
    const pad = 32;
    const fit = Math.min(
      (el.clientWidth - 2 * pad) / (right - left),
      (el.clientHeight - 2 * pad) / (bottom - top),
    );
    const floor = nodes.length <= READABLE_NODES ? READABLE_ZOOM : 0.2;
    const zoom = Math.min(1, Math.max(fit, floor));
    const width = (right - left) * zoom;
    const height = (bottom - top) * zoom;
    flow.setViewport({
      // Centred only when it fits with the margins; else it starts at the padded top-left corner.
      x: width + 2 * pad <= el.clientWidth ? (el.clientWidth - width) / 2 - left * zoom : pad - left * zoom,
      y: height + 2 * pad <= el.clientHeight ? (el.clientHeight - height) / 2 - top * zoom : pad - top * zoom,
      zoom,
    });
  };

  const onNodesChange = (changes: NodeChange<FlowNode>[]) =>
    setLaidOut((s) => (s ? { ...s, nodes: applyNodeChanges(changes, s.nodes) } : s));

  if (layoutError) return <p className="error-text">Could not lay out the graph: {layoutError}</p>;
  if (!graph || nodes.length === 0) return <p className="muted graph-placeholder">Loading the graph…</p>;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Enter bubbles up from the focusable nodes inside
    <div
      className="graph"
      ref={box}
      // Enter on a focused step picks it, as a click does.
      onKeyDown={(e) => {
        const target = e.target as HTMLElement;
        if (e.key === "Enter" && target.classList.contains("react-flow__node")) pick(target.dataset["id"]);
      }}
    >
      <ReactFlow
        key={graph.nodes.map((n) => n.id).join("|")}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_, n) => pick(n.id)}
        onInit={onInit}
        nodesConnectable={false}
        edgesFocusable={false}
        fitViewOptions={{
          padding: 0.1,
          maxZoom: 1,
          minZoom: nodes.length <= READABLE_NODES ? READABLE_ZOOM : 0.2,
        }}
        minZoom={0.2}
        // The wheel scrolls a tall graph; Ctrl (or a pinch) and the controls zoom.
        panOnScroll
        colorMode="system"
        aria-label="Workflow graph"
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
});
