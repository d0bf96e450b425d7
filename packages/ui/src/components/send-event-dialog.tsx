import { useId, useRef, useState } from "react";
import { EVENT_NAMES, type EventSchema, type RunEvent, type WorkflowGraph } from "../api/types.js";
import { eventKey } from "../graph/activity.js";
import { revealFirstError } from "../state/focus.js";
import { useAction } from "../state/use-action.js";
import { useSchemaForm } from "../state/use-schema-form.js";
import { Dialog } from "./dialog.js";
import { JsonView } from "./json-view.js";
import { SchemaForm } from "./schema-form.js";

/**
 * Sends an event into a running run: only what may come from outside (human responses, and events
 * no step produces: the additional ones), its form built from its schema, optionally to a step that
 * accepts it. The question being answered, when the run waits for one, is shown first.
 */
export function SendEventDialog({
  handlerId,
  events,
  graph,
  initialType,
  pendingInput,
  onClose,
  onSent,
}: {
  handlerId: string;
  events: EventSchema[];
  graph: WorkflowGraph | undefined;
  initialType: string | null;
  pendingInput: RunEvent | null;
  onClose: () => void;
  onSent: (sent: SentEvent) => void;
}) {
  const id = useId();
  const ordered = orderEvents(events, graph);
  const [type, setType] = useState(() => initialType ?? ordered[0]?.type ?? "");
  const chosen = ordered.find((e) => e.type === type);
  return (
    <Dialog title="Send an event" onClose={onClose}>
      <div className="dialog-body">
        <p className="muted">
          To run <span className="mono">{handlerId}</span>
        </p>
        {pendingInput && (
          <div className="input-required">
            <div>
              <strong>The run asks</strong> ({pendingInput.type})
              <JsonView value={pendingInput.value} />
            </div>
          </div>
        )}
        <label className="field" htmlFor={`${id}-type`}>
          <span className="field-label">Event</span>
        </label>
        <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value)}>
          {ordered.map((e) => (
            <option key={e.type} value={e.type}>
              {e.type}
              {e.humanResponse ? " (human response)" : ""}
            </option>
          ))}
        </select>
        {chosen ? (
          <EventForm key={chosen.type} handlerId={handlerId} event={chosen} graph={graph} onSent={onSent} />
        ) : (
          <p className="muted">This workflow declares no events to send.</p>
        )}
      </div>
    </Dialog>
  );
}

function EventForm({
  handlerId,
  event,
  graph,
  onSent,
}: {
  handlerId: string;
  event: EventSchema;
  graph: WorkflowGraph | undefined;
  onSent: (sent: SentEvent) => void;
}) {
  const form = useSchemaForm(event.schema);
  const [step, setStep] = useState("");
  const send = useAction();
  const accepting = new Set(acceptingSteps(event.type, graph));
  const steps = graph?.nodes.filter((n) => n.nodeType === "step" && accepting.has(n.id)) ?? [];
  const stepId = useId();
  const ref = useRef<HTMLFormElement>(null);

  return (
    <form
      ref={ref}
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const value = form.submit();
        if (value === null) return revealFirstError(ref.current);
        await send.run(async (api) => {
          await api.sendEvent(handlerId, event.type, value, step || undefined);
          onSent({ type: event.type, value, step: step || null, at: new Date().toISOString() });
        });
      }}
    >
      {event.schema.description && <p className="hint">{event.schema.description}</p>}
      <SchemaForm form={form} label={event.type} />
      <div className="field">
        <label htmlFor={stepId}>
          <span className="field-label">
            Step <span className="optional">(optional)</span>
          </span>
        </label>
        <select id={stepId} value={step} onChange={(e) => setStep(e.target.value)}>
          <option value="">Any step that accepts it</option>
          {steps.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      {send.error && (
        <p className="error-text" role="alert">
          {send.error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="submit" className="primary" disabled={send.pending}>
          {send.pending ? "Sending…" : `Send ${event.type}`}
        </button>
      </div>
    </form>
  );
}

/** An event this page sent into a run, once the server said it is durable. */
export interface SentEvent {
  type: string;
  value: Record<string, unknown>;
  step: string | null;
  at: string;
}

interface OfferedEvent extends EventSchema {
  humanResponse: boolean;
}

/** What may come from outside, human responses first: they are what a waiting run needs. */
function orderEvents(events: EventSchema[], graph: WorkflowGraph | undefined): OfferedEvent[] {
  const human = new Set(humanResponseTypes(graph));
  const internal = new Set(producedTypes(graph));
  const offered = events
    .filter((e) => human.has(e.type) || (!internal.has(e.type) && !BUILTIN_ENDS.has(e.type)))
    .map((e) => ({ ...e, humanResponse: human.has(e.type) }));
  return [...offered.filter((e) => e.humanResponse), ...offered.filter((e) => !e.humanResponse)];
}

/** Short names of the events a person answers with: those extending HumanResponseEvent. */
export function humanResponseTypes(graph: WorkflowGraph | undefined): string[] {
  return (graph?.nodes ?? [])
    .filter((n) => n.nodeType === "event" && n.eventTypes.includes(EVENT_NAMES.humanResponse))
    .map(eventKey);
}

function acceptingSteps(type: string, graph: WorkflowGraph | undefined): string[] {
  if (!graph) return [];
  const eventNodes = new Set(
    graph.nodes.filter((n) => n.nodeType === "event" && eventKey(n) === type).map((n) => n.id),
  );
  return graph.edges.filter((e) => eventNodes.has(e.source)).map((e) => e.target);
}

// The run's own start and end: never something to send into a running run.
const BUILTIN_ENDS = new Set(["StartEvent", "StopEvent"]);

/** Events a step produces (an edge from a step to the event), or that start or stop the run. */
function producedTypes(graph: WorkflowGraph | undefined): string[] {
  if (!graph) return [];
  const steps = new Set(graph.nodes.filter((n) => n.nodeType === "step").map((n) => n.id));
  const produced = new Set(graph.edges.filter((e) => steps.has(e.source)).map((e) => e.target));
  return graph.nodes
    .filter(
      (n) =>
        n.nodeType === "event" &&
        (produced.has(n.id) ||
          n.eventTypes.includes(EVENT_NAMES.start) ||
          n.eventTypes.includes(EVENT_NAMES.stop)),
    )
    .map(eventKey);
}
