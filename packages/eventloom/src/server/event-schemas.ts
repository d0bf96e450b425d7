import { z } from "zod";
import { type EventDefinition, HumanResponseEvent, InputRequiredEvent } from "../core/index.js";
import type { GraphEdge, GraphNode, Representation } from "../protocol/index.js";
import type { RegisteredWorkflow } from "./registry.js";

type JsonSchema = Record<string, unknown>;

/** An event's JSON Schema (the input side, as a form fills it in), titled with its short type. */
export function eventJsonSchema(definition: EventDefinition): JsonSchema {
  const schema = z.toJSONSchema(definition.schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return { ...schema, title: definition.type };
}

/** GET /workflows/{name}/schema: the start event's schema and the stop events' (anyOf when several). */
export function startStopSchemas(entry: RegisteredWorkflow): { start: JsonSchema; stop: JsonSchema } {
  const stops = entry.workflow.stopEvents;
  let stop: JsonSchema;
  if (stops.length === 1) stop = eventJsonSchema(stops[0] as EventDefinition);
  else stop = { anyOf: stops.map(eventJsonSchema) };
  return { start: eventJsonSchema(entry.startEvent), stop };
}

/** GET /workflows/{name}/events: every declared event (accepted, emitted, awaited) plus the additional ones. */
export const eventSchemas = (entry: RegisteredWorkflow): JsonSchema[] => entry.events.map(eventJsonSchema);

const EXTERNAL = "external_step";
// Lineage, not `extends`: two module copies of the built-ins (sources and dist) must agree.

/** GET /workflows/{name}/representation: steps, events and who emits and accepts what. */
export function workflowGraph(entry: RegisteredWorkflow): Representation {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const edgeKeys = new Set<string>();
  const addEdge = (source: string, target: string) => {
    const key = `${source}\u0000${target}`;
    if (edgeKeys.has(key)) return;
    edgeKeys.add(key);
    edges.push({ source, target });
  };
  const steps = entry.workflow.steps;
  for (const step of steps) nodes.push({ id: step.name, label: step.name, node_type: "step" });
  for (const d of entry.events) {
    nodes.push({
      id: d.name,
      label: d.type,
      node_type: "event",
      event_type: d.type,
      event_types: [...d.lineage],
      event_schema: eventJsonSchema(d),
    });
  }
  let external = false;
  // Awaited events (`waitsFor`) that no step emits come from outside.
  const emitted = new Set(steps.flatMap((s) => s.emits.map((d) => d.name)));
  const awaitedFromOutside = new Set<EventDefinition>();
  for (const step of steps) {
    for (const d of step.accepts) addEdge(d.name, step.name);
    for (const d of step.waitsFor) {
      addEdge(d.name, step.name);
      if (!emitted.has(d.name) || d.lineage.includes(HumanResponseEvent.name)) awaitedFromOutside.add(d);
    }
    for (const d of step.emits) {
      addEdge(step.name, d.name);
      if (d.lineage.includes(InputRequiredEvent.name)) {
        external = true;
        addEdge(d.name, EXTERNAL);
      }
    }
  }
  if (external || awaitedFromOutside.size > 0) {
    nodes.push({ id: EXTERNAL, label: EXTERNAL, node_type: "external" });
    for (const d of entry.events) {
      const accepted = steps.some((s) => s.accepts.includes(d));
      const human =
        d.lineage.includes(HumanResponseEvent.name) && (accepted || entry.additionalEvents.includes(d));
      if (human || awaitedFromOutside.has(d)) addEdge(EXTERNAL, d.name);
    }
  }
  return { graph: { name: entry.name, nodes, edges } };
}
