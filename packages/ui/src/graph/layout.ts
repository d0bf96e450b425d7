import ELK from "elkjs/lib/elk-api.js";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { WorkflowGraph } from "../api/types.js";

export interface Positioned {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const NODE_HEIGHT = 40;
// Must match `.wf-node` and `.wf-label` in styles.css: the label's font, and padding + icon + gap + borders.
const LABEL_FONT =
  '600 13px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif';
const CHROME = 56;

let measure: CanvasRenderingContext2D | null | undefined;
const widths = new Map<string, number>();

/** A node's width before layout, from its label as the browser draws it (the node renders at this width). */
export function nodeWidth(label: string): number {
  let width = widths.get(label);
  if (width === undefined) {
    measure ??= typeof document === "undefined" ? null : document.createElement("canvas").getContext("2d");
    if (measure) measure.font = LABEL_FONT;
    const text = measure ? measure.measureText(label).width : label.length * 8.5;
    width = Math.max(90, Math.ceil(text) + CHROME);
    widths.set(label, width);
  }
  return width;
}

// ELK is large: it runs in a Web Worker loaded from its own asset, only once a graph is shown.
let elk: InstanceType<typeof ELK> | null = null;

/** Lays the graph out top to bottom (ELK's layered algorithm): long chains read down, not across. */
export async function layoutGraph(graph: WorkflowGraph): Promise<Positioned[]> {
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  const ids = new Set(graph.nodes.map((n) => n.id));
  const laid = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.spacing.nodeNode": "28",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: nodeWidth(n.label), height: NODE_HEIGHT })),
    edges: graph.edges
      .filter((e) => ids.has(e.source) && ids.has(e.target))
      .map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.target] })),
  });
  return (laid.children ?? []).map((c) => ({
    id: c.id,
    x: c.x ?? 0,
    y: c.y ?? 0,
    width: c.width ?? nodeWidth(c.id),
    height: c.height ?? NODE_HEIGHT,
  }));
}
