import type { EventDefinition } from "./events.js";

/** Finds an event definition by qualified name or by short type. */
export type EventResolver = (name: string) => EventDefinition | undefined;

/**
 * The one rule for naming an event from outside (the HTTP API, `Workflow.findEvent`): a qualified
 * name matches whole; else a short type matches when exactly one definition has it; else the part
 * of a dotted name after its last dot, by the same rule. An ambiguous short type resolves to nothing,
 * never to whichever definition came first.
 */
export function eventResolver(definitions: Iterable<EventDefinition>): EventResolver {
  const byName = new Map<string, EventDefinition>();
  const byType = new Map<string, EventDefinition | null>();
  for (const d of definitions) {
    byName.set(d.name, d);
    const seen = byType.get(d.type);
    byType.set(d.type, seen === undefined || seen === d ? d : null);
  }
  return (name) =>
    byName.get(name) ?? byType.get(name) ?? byType.get(name.slice(name.lastIndexOf(".") + 1)) ?? undefined;
}
