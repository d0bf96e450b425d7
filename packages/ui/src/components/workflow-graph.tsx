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
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo, useState } from "react";
import type { WorkflowGraph as Graph, GraphNode } from "../api/types.js";
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
}

type FlowNode = Node<NodeData, "workflow">;

function WorkflowNode({ data }: NodeProps<FlowNode>) {
  const { node, running, count, lastSequence, live } = data;
  const classes = [
    "wf-node",
    `wf-${node.nodeType}`,
    running > 0 ? "is-running" : "",
    count > 0 ? "has-fired" : "",
  ].join(" ");
  const what = node.nodeType === "step" ? "step" : node.nodeType === "event" ? "event" : "outside input";
  const state =
    running > 0
      ? `running (${running})`
      : count > 0
        ? node.nodeType === "step"
          ? `ran ${count}×`
          : `fired ${count}×`
        : "";
  return (
    <div
      className={classes}
      data-node-id={node.id}
      data-state={running > 0 ? "running" : count > 0 ? "done" : "idle"}
      title={`${what}: ${node.label}`}
      // The width ELK laid the node out with, so that a state badge never makes nodes overlap.
      style={{ width: nodeWidth(node.label) }}
    >
      <Handle type="target" position={Position.Left} />
      {live && lastSequence !== null && <span key={lastSequence} className="flash" aria-hidden="true" />}
      <span className="wf-kind" aria-hidden="true">
        {node.nodeType === "step" ? "ƒ" : node.nodeType === "event" ? "◆" : "☺"}
      </span>
      <span className="wf-label">{node.label}</span>
      {state && <span className="wf-state">{state}</span>}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { workflow: WorkflowNode };

/**
 * The workflow's graph, laid out left to right. Nodes can be dragged; the controls zoom and fit.
 * With a run's activity it marks the steps at work and the events that fired.
 */
export function WorkflowGraph({
  graph,
  activity,
  live,
}: {
  graph: Graph | undefined;
  activity: GraphActivity | null;
  live: boolean;
}) {
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
            data: { node, running: 0, count: 0, lastSequence: null, live: false },
            ariaLabel: `${node.nodeType} ${node.label}`,
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
        markerEnd: { type: MarkerType.ArrowClosed },
        animated: (activity?.running.get(e.source) ?? 0) > 0,
      })),
    [graph, activity],
  );

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
      };
      return { ...n, data };
    });
  }, [laidOut, graph, activity, live]);

  const onNodesChange = (changes: NodeChange<FlowNode>[]) =>
    setLaidOut((s) => (s ? { ...s, nodes: applyNodeChanges(changes, s.nodes) } : s));

  if (layoutError) return <p className="error-text">Could not lay out the graph: {layoutError}</p>;
  if (!graph || nodes.length === 0) return <p className="muted graph-placeholder">Loading the graph…</p>;
  return (
    <div className="graph">
      <ReactFlow
        key={graph.nodes.map((n) => n.id).join("|")}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        nodesConnectable={false}
        edgesFocusable={false}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
        minZoom={0.2}
        colorMode="system"
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
