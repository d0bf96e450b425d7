import type { PublishedEvent } from "../core/run-state.js";
import { type EventEnvelope, type ToEnvelopeOptions, toEnvelope } from "./codec.js";

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

/**
 * `fromEnvelope(EnvelopeSchema.parse(json))` for parsed JSON that is a well-formed envelope, checked
 * by hand (a stream reader meets thousands a second); null for anything else, which the caller then
 * gives to the schema for its verdict and its error. Never accepts what the schema rejects, and gives
 * the same result when both accept.
 */
export function envelopeFromJson(json: unknown): EventEnvelope | null {
  if (!isObject(json)) return null;
  const { value, qualified_name, type, types, sequence, timestamp } = json as Record<string, unknown>;
  if (
    !isObject(value) ||
    Object.hasOwn(value, "__proto__") || // the schema's record drops it; leave that to the schema
    typeof type !== "string" ||
    !Array.isArray(types) ||
    typeof sequence !== "number" ||
    !Number.isSafeInteger(sequence) ||
    sequence < 0 ||
    (qualified_name !== undefined && typeof qualified_name !== "string") ||
    (timestamp !== undefined && typeof timestamp !== "string")
  ) {
    return null;
  }
  for (let i = 0; i < types.length; i++) if (typeof types[i] !== "string") return null;
  const out: EventEnvelope = { type, value: value as Record<string, unknown>, types, sequence };
  if (qualified_name !== undefined) out.qualifiedName = qualified_name;
  if (timestamp !== undefined) out.timestamp = timestamp;
  return out;
}

// What the schema's object and record accept: JSON.parse makes no other kinds of object.
const isObject = (v: unknown): v is object => typeof v === "object" && v !== null && !Array.isArray(v);
