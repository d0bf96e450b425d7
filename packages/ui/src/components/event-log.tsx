import { useEffect, useRef, useState } from "react";
import { isInputRequired, isInternal, isTerminal, type RunEvent } from "../api/types.js";
import { formatPreciseTime } from "../format.js";
import type { RunEvents } from "../state/use-run-events.js";
import { JsonView } from "./json-view.js";

/** The selected run's events as they stream, each expandable to its JSON. */
export function EventLog({
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
  const events = (stream?.events ?? []).filter((ev) => includeInternal || !isInternal(ev));
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  // Follow new events while the reader is at the bottom; leave them alone when they scrolled up.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the number of shown events changes
  useEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [events.length]);

  return (
    <aside className="events-panel" aria-labelledby="events-heading">
      <div className="section-header">
        <h2 id="events-heading" className="section-title">
          Events
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
      {stream?.error && <p className="error-text">{stream.error}</p>}
      {stream && events.length === 0 && !stream.error && (
        <p className="muted">{stream.ended ? "No events." : "Waiting for events…"}</p>
      )}
      <ol
        className="event-list"
        aria-label="Event log"
        ref={list}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {events.map((ev) => (
          <EventItem
            key={ev.sequence}
            event={ev}
            waiting={pendingInput?.sequence === ev.sequence}
            onAnswer={onAnswer}
          />
        ))}
      </ol>
      {stream && !stream.ended && events.length > 0 && <p className="muted live-note">Live…</p>}
    </aside>
  );
}

function EventItem({
  event,
  waiting,
  onAnswer,
}: {
  event: RunEvent;
  waiting: boolean;
  onAnswer: () => void;
}) {
  const kind = isTerminal(event)
    ? "terminal"
    : isInputRequired(event)
      ? "input"
      : isInternal(event)
        ? "internal"
        : "";
  // The JSON is rendered only once opened: a long log stays cheap.
  const [open, setOpen] = useState(false);
  return (
    <li
      className={`event ${kind} ${waiting ? "waiting" : ""}`}
      data-sequence={event.sequence}
      data-type={event.type}
    >
      <details onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          <span className="event-seq">#{event.sequence}</span>
          <time
            className="event-time"
            dateTime={event.time}
            title={event.timeSource === "server" ? "Recorded by the server" : "Received by this page"}
          >
            {formatPreciseTime(event.time)}
          </time>
          <span className="event-type">{event.type}</span>
          {isInputRequired(event) && <span className="tag">input required</span>}
        </summary>
        {open && (
          <JsonView
            value={{
              type: event.type,
              qualified_name: event.qualifiedName,
              types: event.types,
              value: event.value,
            }}
          />
        )}
      </details>
      {waiting && (
        <button type="button" className="small-button" onClick={onAnswer}>
          Answer this
        </button>
      )}
    </li>
  );
}
