import { BUILTIN_EVENT_NAMES } from "../../core/builtin-names.js";
import type { PublishedEvent } from "../../core/index.js";
import type { WaitingForInfo } from "../../protocol/index.js";
import type { HandlerPage, HandlerRecord, Store } from "../../stores/store.js";

/** How many of a run's latest events are read to tell whether it waits for input. */
const TAIL = 8;

/**
 * `GET /handlers?waiting=true`: of one store page of running handlers, those whose latest events
 * ask for input that no step took up since, each with that question. Reads a few events per
 * running handler: a debugger's view, not a hot path. The page may be short; its cursor goes on.
 */
export async function waitingPage(
  store: Store,
  read: (status: "running") => Promise<HandlerPage>,
): Promise<HandlerPage> {
  const page = await read("running");
  const handlers: HandlerRecord[] = [];
  for (const record of page.handlers) {
    if (record.blocked) continue;
    const waitingFor = await questionOf(store, record.handlerId);
    if (waitingFor) handlers.push({ ...record, waitingFor });
  }
  return { handlers, nextCursor: page.nextCursor };
}

/** The input-required event a run waits on: the latest one, when no step started work after it. */
async function questionOf(store: Store, handlerId: string): Promise<WaitingForInfo | null> {
  const last = await store.lastSequence(handlerId);
  if (last < 0) return null;
  const tail = await store.readEvents(handlerId, Math.max(-1, last - TAIL), TAIL);
  for (let i = tail.length - 1; i >= 0; i--) {
    const ev = tail[i] as PublishedEvent;
    if (ev.types.includes(BUILTIN_EVENT_NAMES.inputRequired))
      return { sequence: ev.sequence, type: ev.type, qualifiedName: ev.qualifiedName, value: ev.value };
    if (ev.qualifiedName === BUILTIN_EVENT_NAMES.stepState && ev.value["state"] === "running") return null;
  }
  return null;
}
