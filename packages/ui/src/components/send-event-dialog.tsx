import { useId, useState } from "react";
import { EVENT_NAMES, type EventSchema, type WorkflowGraph } from "../api/types.js";
import { eventKey } from "../graph/activity.js";
import { useAction } from "../state/use-action.js";
import { useSchemaForm } from "../state/use-schema-form.js";
import { Dialog } from "./dialog.js";
import { SchemaForm } from "./schema-form.js";

/**
 * Sends an event into a running run: any event the workflow declares or was told about
 * (additional events), its form built from its schema, optionally to one step.
 */
export function SendEventDialog({
  handlerId,
  events,
  graph,
  initialType,
  onClose,
  onSent,
}: {
  handlerId: string;
  events: EventSchema[];
  graph: WorkflowGraph | undefined;
  initialType: string | null;
  onClose: () => void;
  onSent: () => void;
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
  onSent: () => void;
}) {
  const form = useSchemaForm(event.schema);
  const [step, setStep] = useState("");
  const send = useAction();
  const steps = graph?.nodes.filter((n) => n.nodeType === "step") ?? [];
  const accepting = new Set(acceptingSteps(event.type, graph));
  const stepId = useId();

  return (
    <form
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const value = form.submit();
        if (value === null) return;
        await send.run(async (api) => {
          await api.sendEvent(handlerId, event.type, value, step || undefined);
          onSent();
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
              {accepting.has(s.id) ? " (accepts it)" : ""}
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

interface OfferedEvent extends EventSchema {
  humanResponse: boolean;
}

/** Human responses first: they are what a waiting run needs. */
function orderEvents(events: EventSchema[], graph: WorkflowGraph | undefined): OfferedEvent[] {
  const human = new Set(humanResponseTypes(graph));
  const offered = events.map((e) => ({ ...e, humanResponse: human.has(e.type) }));
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
