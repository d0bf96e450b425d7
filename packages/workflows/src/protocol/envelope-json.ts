import type { PublishedEvent } from "../core/run-state.js";
import { type ToEnvelopeOptions, toEnvelope } from "./codec.js";

/** The JSON of one kind of event's fixed parts, made once per kind rather than once per event. */
interface KindParts {
  type: string;
  qualifiedName: string;
  types: readonly string[];
  /** `,"type":…,"types":[…],"sequence":` */
  middle: string;
  /** `,"qualified_name":…}` or `}` */
  end: string;
}

// A stream sees a handful of kinds; past this many, the cache starts afresh rather than grow.
const MAX_KINDS = 256;

/**
 * Writes envelopes as JSON text, byte for byte what `JSON.stringify(toEnvelope(event, options))`
 * gives, without building the envelope object and re-stringifying each event's type, lineage and
 * qualified name (a stream repeats a few kinds of event many times). One per stream.
 *
 * @example
 * const writer = new EnvelopeJsonWriter({ includeQualifiedName: true });
 * const line = `${writer.write(published)}\n`;
 */
export class EnvelopeJsonWriter {
  readonly #includeQualifiedName: boolean;
  readonly #options: ToEnvelopeOptions;
  readonly #kinds = new Map<string, KindParts>();

  constructor(options: ToEnvelopeOptions = {}) {
    this.#includeQualifiedName = options.includeQualifiedName ?? true;
    this.#options = { includeQualifiedName: this.#includeQualifiedName };
  }

  /** `JSON.stringify(toEnvelope(published, options))`. */
  write(published: PublishedEvent): string {
    const { value, sequence, timestamp } = published;
    const kind = this.#kind(published);
    // a toJSON would be called with the key "value" inside the envelope, "" on its own
    const valueJson = value == null || hasToJson(value) ? undefined : JSON.stringify(value);
    // Anything the fast form would not write exactly as JSON.stringify does goes the slow way.
    if (
      kind === null ||
      valueJson === undefined ||
      typeof sequence !== "number" ||
      !Number.isFinite(sequence) ||
      typeof timestamp !== "string"
    ) {
      return JSON.stringify(toEnvelope(published, this.#options));
    }
    return `{"value":${valueJson}${kind.middle}${sequence},"timestamp":${JSON.stringify(timestamp)}${kind.end}`;
  }

  #kind(published: PublishedEvent): KindParts | null {
    const { type, qualifiedName, types } = published;
    if (typeof type !== "string" || typeof qualifiedName !== "string" || !Array.isArray(types)) return null;
    const known = this.#kinds.get(qualifiedName);
    if (known !== undefined && known.type === type && sameStrings(known.types, types)) return known;
    if (!types.every((t) => typeof t === "string")) return null;
    const parts: KindParts = {
      type,
      qualifiedName,
      types: [...types],
      middle: `,"type":${JSON.stringify(type)},"types":${JSON.stringify(types)},"sequence":`,
      end: this.#includeQualifiedName ? `,"qualified_name":${JSON.stringify(qualifiedName)}}` : "}",
    };
    if (this.#kinds.size >= MAX_KINDS) this.#kinds.clear();
    this.#kinds.set(qualifiedName, parts);
    return parts;
  }
}

const hasToJson = (value: object): boolean => typeof (value as { toJSON?: unknown }).toJSON === "function";

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
