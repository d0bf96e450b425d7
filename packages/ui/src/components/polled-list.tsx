import { type ReactNode, useCallback, useEffect, useState } from "react";
import { describeError } from "../api/debugger-api.js";
import { useConnection } from "../state/connection.js";
import { useInterval } from "../state/use-interval.js";

const POLL_MS = 3000;

/** A page of a list: its items and the cursor of the next (older) page, null when there is none. */
export interface ListPage<T> {
  items: T[];
  cursor: string | null;
}

export interface PolledListProps<T> {
  /** The heading's id (the section is labelled by it). */
  headingId: string;
  title: string;
  /** The list's accessible name. */
  label: string;
  /** Said when the list is empty. */
  empty: string;
  /** Reads a page: the first (cursor null) is polled, older ones are read on demand. Keep it stable. */
  load: (cursor: string | null) => Promise<ListPage<T>>;
  keyOf: (item: T) => string;
  /** Attributes of an item's `<li>` (a `data-` attribute that names it, for instance). */
  itemAttributes?: (item: T) => Record<string, string>;
  /** An item's content, inside its `<li>`. */
  children: (item: T) => ReactNode;
}

/**
 * The shell of the debugger's cross-workflow lists (runs waiting for input, blocked runs, schedules):
 * a titled card with a count, the first page polled every few seconds, "Load older" while there are
 * more pages, errors (a refused token asks for one) and the loading and empty states.
 */
export function PolledList<T>(props: PolledListProps<T>) {
  const { load, keyOf } = props;
  const { handleAuthError } = useConnection();
  const [first, setFirst] = useState<ListPage<T> | null>(null);
  // Older pages, once asked for: their items and the cursor after them.
  const [older, setOlder] = useState<ListPage<T> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const poll = useCallback(() => {
    load(null).then(
      (page) => {
        setFirst(page);
        setError(null);
      },
      (e: unknown) => {
        if (!handleAuthError(e)) setError(describeError(e));
      },
    );
  }, [load, handleAuthError]);
  useEffect(poll, [poll]);
  useInterval(poll, POLL_MS);

  const next = older ? older.cursor : (first?.cursor ?? null);
  const more = async () => {
    if (next === null) return;
    try {
      const page = await load(next);
      setOlder((o) => ({ items: [...(o?.items ?? []), ...page.items], cursor: page.cursor }));
    } catch (e) {
      if (!handleAuthError(e)) setError(describeError(e));
    }
  };
  const seen = new Set(first?.items.map(keyOf));
  const items = [...(first?.items ?? []), ...(older?.items ?? []).filter((i) => !seen.has(keyOf(i)))];

  return (
    <section className="card waiting-view" aria-labelledby={props.headingId}>
      <h2 id={props.headingId} className="section-title">
        {props.title} <span className="count">{first ? items.length.toLocaleString() : ""}</span>
      </h2>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {first === null && !error && <p className="muted">Loading…</p>}
      {first !== null && items.length === 0 && <p className="muted">{props.empty}</p>}
      <ul className="plain-list waiting-list" aria-label={props.label}>
        {items.map((item) => (
          <li key={keyOf(item)} className="waiting-run" {...props.itemAttributes?.(item)}>
            {props.children(item)}
          </li>
        ))}
      </ul>
      {next !== null && (
        <button type="button" onClick={more}>
          Load older
        </button>
      )}
    </section>
  );
}
