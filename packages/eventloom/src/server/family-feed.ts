import type { RunState } from "../core/index.js";
import { type EventFeed, type EventStreamOptions, openEventFeed } from "./event-stream.js";

/**
 * `include_children=true`: a run's events and those of the children it started with
 * `ctx.runWorkflow`, interleaved as they come, each envelope with its `handler_id`. The cursor is
 * the parent's; each child is streamed from its start. Children are looked for after each page,
 * among the parent's calls whose handler exists (`childrenOf`); the stream ends once the parent and
 * every child found have ended.
 */
export function openFamilyFeed(
  o: EventStreamOptions,
  childrenOf: () => Promise<readonly string[]>,
): EventFeed {
  const feeds = new Map<string, { feed: EventFeed; pending: Promise<string | null> | null }>();
  const seen = new Set<string>();
  let ended = false;
  const add = (handlerId: string, options: EventStreamOptions) => {
    if (seen.has(handlerId)) return;
    seen.add(handlerId);
    feeds.set(handlerId, { feed: openEventFeed(options), pending: null });
  };
  add(o.handlerId, { ...o, tagged: "parent", onEnd: undefined });
  const findChildren = async () => {
    for (const id of await childrenOf()) {
      add(id, { ...o, handlerId: id, after: -1, tagged: "child", onEnd: undefined });
    }
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    for (const { feed } of feeds.values()) feed.end();
    o.onEnd?.();
  };

  const next = async (): Promise<string | null> => {
    await findChildren();
    for (;;) {
      if (ended || feeds.size === 0) {
        finish();
        return null;
      }
      const racing = [...feeds].map(([id, entry]) => {
        entry.pending ??= entry.feed.next();
        return entry.pending.then((text) => ({ id, text }));
      });
      const { id, text } = await Promise.race(racing);
      const entry = feeds.get(id);
      if (entry) entry.pending = null;
      if (text === null) {
        feeds.delete(id);
        continue;
      }
      await findChildren();
      return text;
    }
  };
  return { next, end: finish };
}

/** The handler ids of a run's children, from its state. */
export const childIds = (state: RunState | null): string[] =>
  Object.values(state?.children ?? {}).map((c) => c.handlerId);
