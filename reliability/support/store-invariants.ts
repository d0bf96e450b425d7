import type { PublishedEvent } from "eventloom";
import type { HandlerRecord, Store } from "eventloom/server";

export interface StoreSummary {
  handlers: HandlerRecord[];
  events: number;
  /** Every way the store's contents break the invariants; empty when sound. */
  problems: string[];
}

/** Every handler of a store, following its pages. */
export async function allHandlers(store: Store): Promise<HandlerRecord[]> {
  const all: HandlerRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listHandlers({ limit: 1000, cursor });
    all.push(...page.handlers);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

/** A handler's stored events, all of them, in order. */
export async function allEvents(store: Store, handlerId: string): Promise<PublishedEvent[]> {
  const events: PublishedEvent[] = [];
  for (;;) {
    const page = await store.readEvents(handlerId, events.at(-1)?.sequence ?? -1, 1000);
    if (page.length === 0) return events;
    events.push(...page);
  }
}

/**
 * Checks that nothing is half-recorded: every handler has a state, its events' sequences are
 * 0..n-1 without gap or repeat, its state's `nextSequence` is n (events and state were written
 * together), the record's status is the state's, an ended handler ends with one terminal event,
 * and a running one has none after its last run's start.
 */
export async function checkStore(store: Store): Promise<StoreSummary> {
  const handlers = await allHandlers(store);
  const problems: string[] = [];
  let events = 0;
  for (const listed of handlers) {
    const seen = await stableView(store, listed.handlerId);
    events += seen.stored.length;
    problems.push(...problemsOf(listed.handlerId, seen));
  }
  return { handlers, events, problems };
}

interface HandlerView {
  record: HandlerRecord | null;
  stored: PublishedEvent[];
  state: Awaited<ReturnType<Store["loadState"]>>;
}

/**
 * One handler's record, events and state as one commit left them. The store's reads are separate
 * statements and the server may still be committing: a view whose record or state changed while it
 * was read (a commit landed in between) is read again, so that a check never blames the store for
 * mixing two commits.
 */
async function stableView(store: Store, id: string): Promise<HandlerView> {
  for (let attempt = 0; ; attempt++) {
    const record = await store.getHandler(id);
    const stored = await allEvents(store, id);
    const state = await store.loadState(id);
    const same =
      JSON.stringify(await store.getHandler(id)) === JSON.stringify(record) &&
      JSON.stringify(await store.loadState(id)) === JSON.stringify(state);
    if (same || attempt >= 50) return { record, stored, state };
  }
}

function problemsOf(id: string, { record, stored, state }: HandlerView): string[] {
  const problems: string[] = [];
  if (!record) return problems; // deleted meanwhile
  stored.forEach((e, i) => {
    if (e.sequence !== i) problems.push(`${id}: event #${i} has sequence ${e.sequence}`);
  });
  if (!state) return [...problems, `${id}: a record without a state`];
  if (state.nextSequence !== stored.length) {
    problems.push(`${id}: state.nextSequence ${state.nextSequence} but ${stored.length} events stored`);
  }
  if (state.status !== record.status) {
    problems.push(`${id}: record status ${record.status} but state status ${state.status}`);
  }
  const terminal = stored.filter((e) => e.types.includes("workflows.events.StopEvent"));
  if (record.status === "running" && terminal.length > 0) {
    problems.push(`${id}: running with a terminal event stored`);
  }
  if (record.status !== "running") {
    if (terminal.length !== 1)
      problems.push(`${id}: ${record.status} with ${terminal.length} terminal events`);
    if (record.completedAt === null) problems.push(`${id}: ${record.status} without completed_at`);
  }
  return problems;
}

/**
 * What was executed twice: handlers that no acknowledged start names (a start executed again after
 * a lost answer), and runs that took an outside event more than once (a second copy of an answer
 * left unclaimed in the state of a run whose waiter the first copy answered).
 */
export async function countDuplicates(
  store: Store,
  handlers: readonly HandlerRecord[],
  named: ReadonlySet<string>,
): Promise<{ handlers: string[]; deliveries: string[] }> {
  const extra = handlers.map((h) => h.handlerId).filter((id) => !named.has(id));
  const deliveries: string[] = [];
  for (const record of handlers) {
    const state = await store.loadState(record.handlerId);
    const unclaimed = (state?.unclaimed ?? []) as { type?: string }[];
    if (unclaimed.length > 0)
      deliveries.push(`${record.handlerId}: ${unclaimed.map((e) => e.type).join(", ")}`);
  }
  return { handlers: extra, deliveries };
}
