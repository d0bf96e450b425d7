import { memo, useState } from "react";
import { isInputRequired, isInternal, isTerminal, type RunEvent } from "../api/types.js";
import { formatPreciseTime } from "../format.js";
import type { RunEnding } from "../run/run-model.js";
import type { RunEvents } from "../state/use-run-events.js";
import { JsonView } from "./json-view.js";
import { VirtualList } from "./virtual-list.js";

const ROW_HEIGHT = 30;

/** The selected run's events as they stream; one picked shows its JSON below the list. */
export const EventLog = memo(function EventLog({
  stream,
  includeInternal,
  onIncludeInternal,
  canSend,
  onSend,
  onAnswer,
  pendingInput,
}: {
  stream: RunEvents | null;
  includeInternal: boolean;
  onIncludeInternal: (value: boolean) => void;
  canSend: boolean;
  onSend: () => void;
  onAnswer: () => void;
  pendingInput: RunEvent | null;
}) {
  const model = stream?.model;
  const events = model ? (includeInternal ? model.events : model.published) : [];
  const [picked, setPicked] = useState<number | null>(null);
  const shown = picked === null ? undefined : model?.events.find((e) => e.sequence === picked);
  const endKind = model?.ending?.kind ?? null;

  return (
    <aside className="events-panel" aria-labelledby="events-heading">
      <div className="section-header">
        <h2 id="events-heading" className="section-title">
          Events {stream && <span className="count">{events.length.toLocaleString()}</span>}
        </h2>
        <button type="button" className="primary" disabled={!canSend} onClick={onSend}>
          Send event
        </button>
      </div>
      <label className="toggle">
        <input
          type="checkbox"
          checked={includeInternal}
          onChange={(e) => onIncludeInternal(e.target.checked)}
        />
        Show internal events
      </label>
      {!stream && <p className="muted">Pick a run to see its events.</p>}
      {stream && events.length === 0 && !stream.error && (
        <p className="muted">{stream.ended ? "No events." : "Waiting for events…"}</p>
      )}
      <VirtualList
        items={events}
        count={events.length}
        rowHeight={ROW_HEIGHT}
        label="Event log"
        className="event-list"
        ordered
        follow
        rowKey={(ev) => ev.sequence}
        renderRow={(ev) => (
          <EventRow
            event={ev}
            endKind={endKind}
            picked={ev.sequence === picked}
            waiting={pendingInput?.sequence === ev.sequence}
            onPick={setPicked}
            onAnswer={onAnswer}
          />
        )}
      />
      {stream && !stream.ended && events.length > 0 && <p className="muted live-note">Live…</p>}
      {shown && (
        <section className="event-detail" aria-label={`Event #${shown.sequence}`}>
          <div className="section-header">
            <strong>
              #{shown.sequence} {shown.type}
            </strong>
            <button type="button" className="small-button" onClick={() => setPicked(null)}>
              Close
            </button>
          </div>
          <JsonView
            value={{
              type: shown.type,
              qualified_name: shown.qualifiedName,
              types: shown.types,
              sequence: shown.sequence,
              time: shown.time,
              value: shown.value,
            }}
          />
        </section>
      )}
    </aside>
  );
});

/** The colour class of an event: how a terminal event ended the run decides its colour, not its kind. */
function kindOf(event: RunEvent, endKind: RunEnding["kind"] | null): string {
  if (isTerminal(event)) return `terminal end-${endKind ?? "completed"}`;
  if (isInputRequired(event)) return "input";
  return isInternal(event) ? "internal" : "";
}

const EventRow = memo(function EventRow({
  event,
  endKind,
  picked,
  waiting,
  onPick,
  onAnswer,
}: {
  event: RunEvent;
  endKind: RunEnding["kind"] | null;
  picked: boolean;
  waiting: boolean;
  onPick: (sequence: number | null) => void;
  onAnswer: () => void;
}) {
  const step = event.qualifiedName.endsWith("StepStateChanged")
    ? `${String(event.value["step"] ?? "")} ${String(event.value["state"] ?? "")}`
    : null;
  return (
    <div
      className={`event ${kindOf(event, endKind)} ${waiting ? "waiting" : ""} ${picked ? "picked" : ""}`}
      data-sequence={event.sequence}
      data-type={event.type}
    >
      <button
        type="button"
        className="event-button"
        aria-expanded={picked}
        onClick={() => onPick(picked ? null : event.sequence)}
      >
        <span className="event-seq">#{event.sequence}</span>
        <time
          className="event-time"
          dateTime={event.time}
          title={event.timeSource === "server" ? "Recorded by the server" : "Received by this page"}
        >
          {formatPreciseTime(event.time)}
        </time>
        <span className="event-type">{event.type}</span>
        {step && <span className="event-note">{step}</span>}
        {/* A waiting row says so with its Answer button; the tag would crowd out the type. */}
        {isInputRequired(event) && !waiting && <span className="tag">input required</span>}
      </button>
      {waiting && (
        <button type="button" className="small-button" onClick={onAnswer}>
          Answer this
        </button>
      )}
    </div>
  );
});
