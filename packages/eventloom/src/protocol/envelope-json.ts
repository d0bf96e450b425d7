import type { PublishedEvent } from "../core/run-state.js";
import { type EventEnvelope, type ToEnvelopeOptions, toEnvelope } from "./codec.js";
import { STOP_EVENT_NAME } from "./wire-values.js";

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

/** An envelope cut from an event's stored JSON, with what a stream needs to know of the event. */
export interface StoredFrame {
  /** `JSON.stringify(toEnvelope(event, options))`. */
  json: string;
  internal: boolean;
  /** Its lineage holds the StopEvent: the run ended with it. */
  terminal: boolean;
}

/** The stored form's fixed parts of one kind: the envelope's, and the facts a stream needs. */
interface StoredKind {
  parts: KindParts;
  terminal: boolean;
}

const TIMESTAMP_KEY = ',"timestamp":"';
const INTERNAL_KEY = ',"internal":';
const VALUE_KEY = ',"value":';

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
  readonly #storedKinds = new Map<string, StoredKind>();

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

  /**
   * The envelope of an event from the JSON text it was stored as (`JSON.stringify` of the
   * PublishedEvent, whose keys come in the engine's order: sequence, type, qualifiedName, types,
   * value, internal, timestamp), cut out of that text without parsing its value. Null when the
   * text is not in that form: the caller parses it and uses {@link write}.
   */
  writeStored(sequence: number, json: string): StoredFrame | null {
    const head = `{"sequence":${sequence},"type":`;
    if (!json.startsWith(head) || !json.endsWith('"}')) return null;
    // Inside a JSON string every quote is escaped, so `,"` only ever separates keys: the first
    // `,"value":` is the top-level key (no key before it holds an object).
    const valueAt = json.indexOf(VALUE_KEY, head.length);
    // The value may hold `,"internal":` itself; the timestamp cannot: the last one is the top-level key.
    const internalAt = json.lastIndexOf(INTERNAL_KEY);
    const timestampAt = json.lastIndexOf(TIMESTAMP_KEY);
    if (valueAt < 0 || internalAt < valueAt || timestampAt < internalAt) return null;
    const flag = json.slice(internalAt + INTERNAL_KEY.length, timestampAt);
    if (flag !== "true" && flag !== "false") return null;
    const timestamp = json.slice(timestampAt + TIMESTAMP_KEY.length, json.length - 2);
    if (timestamp.includes('"') || timestamp.includes("\\")) return null;
    const kind = this.#storedKind(json.slice(head.length - 7, valueAt));
    if (kind === null) return null;
    const value = json.slice(valueAt + VALUE_KEY.length, internalAt);
    if (value === "null") return null; // written differently by toEnvelope
    return {
      json: `{"value":${value}${kind.parts.middle}${sequence},"timestamp":"${timestamp}"${kind.parts.end}`,
      internal: flag === "true",
      terminal: kind.terminal,
    };
  }

  /** `"type":…,"qualifiedName":…,"types":[…]`, parsed once per kind. */
  #storedKind(text: string): StoredKind | null {
    const known = this.#storedKinds.get(text);
    if (known !== undefined) return known;
    let fields: unknown;
    try {
      fields = JSON.parse(`{${text}}`);
    } catch {
      return null;
    }
    const { type, qualifiedName, types } = fields as Partial<PublishedEvent>;
    const keys = Object.keys(fields as object);
    if (keys.length !== 3 || keys[0] !== "type" || keys[1] !== "qualifiedName" || keys[2] !== "types")
      return null;
    const parts = this.#kind({ type, qualifiedName, types } as PublishedEvent);
    if (parts === null) return null;
    const kind = { parts, terminal: (types as string[]).includes(STOP_EVENT_NAME) };
    if (this.#storedKinds.size >= MAX_KINDS) this.#storedKinds.clear();
    this.#storedKinds.set(text, kind);
    return kind;
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
 * by hand (a stream reader meets thousands a second); null for anything else, which the client then
 * gives to `EnvelopeShape` (answer-shapes.ts, the schema's zod-free mirror) for its verdict and its
 * error. Never accepts what the schema rejects, and gives the same result when both accept.
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

/** The JSON of one kind of published event's fixed part: `"type":…,"qualifiedName":…,"types":[…]`. */
interface PublishedKind {
  type: string;
  types: readonly string[];
  json: string;
}

/**
 * Writes published events as the JSON a store keeps, byte for byte what `JSON.stringify(event)`
 * gives (the form {@link EnvelopeJsonWriter.writeStored} cuts envelopes from), serializing only the
 * value: the type, qualified name and lineage of a kind are serialized once. One per process is
 * enough; it holds a few hundred kinds at most.
 */
export class PublishedJsonWriter {
  readonly #kinds = new Map<string, PublishedKind>();
  #lastTimestamp = "";
  #lastTimestampJson = '""';

  /** `JSON.stringify(event)`. */
  write(event: PublishedEvent): string {
    const { sequence, value, internal, timestamp } = event;
    const kind = this.#kind(event);
    if (
      kind === null ||
      typeof sequence !== "number" ||
      !Number.isFinite(sequence) ||
      typeof internal !== "boolean" ||
      typeof timestamp !== "string" ||
      value == null ||
      typeof value !== "object" ||
      hasToJson(value)
    ) {
      return JSON.stringify(event);
    }
    if (timestamp !== this.#lastTimestamp) {
      this.#lastTimestamp = timestamp;
      this.#lastTimestampJson = JSON.stringify(timestamp);
    }
    return `{"sequence":${sequence},${kind.json},"value":${JSON.stringify(value)},"internal":${internal},"timestamp":${this.#lastTimestampJson}}`;
  }

  #kind(event: PublishedEvent): PublishedKind | null {
    const { type, qualifiedName, types } = event;
    if (typeof type !== "string" || typeof qualifiedName !== "string" || !Array.isArray(types)) return null;
    const known = this.#kinds.get(qualifiedName);
    if (
      known !== undefined &&
      known.type === type &&
      (known.types === types || sameStrings(known.types, types))
    ) {
      return known;
    }
    if (!types.every((t) => typeof t === "string")) return null;
    const kind: PublishedKind = {
      type,
      types,
      json: `"type":${JSON.stringify(type)},"qualifiedName":${JSON.stringify(qualifiedName)},"types":${JSON.stringify(types)}`,
    };
    if (this.#kinds.size >= MAX_KINDS) this.#kinds.clear();
    this.#kinds.set(qualifiedName, kind);
    return kind;
  }
}
