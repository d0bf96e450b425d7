import { isoTime } from "./clock.js";
import { Event, type WorkflowEvent } from "./events.js";
import type { PublishedEvent, RunState } from "./run-state.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

/** `event` as the run publishes it: the next sequence of the state, its lineage, the time. */
export function publishedEvent(
  workflow: WorkflowDefinition,
  state: RunState,
  event: WorkflowEvent,
  internal: boolean,
  now: number,
): PublishedEvent {
  const def = workflow.definitionOf(event.qualifiedName);
  return {
    sequence: state.nextSequence++,
    type: event.type,
    qualifiedName: event.qualifiedName,
    types: (def?.lineage ?? [Event.name, event.qualifiedName]) as string[],
    value: event.data,
    internal,
    timestamp: isoTime(now),
  };
}
