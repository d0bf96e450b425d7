import { InvalidCursorError } from "./store.js";

/** A position in the newest-first listing of handlers: the last handler of the previous page. */
export interface HandlerCursor {
  startedAt: string;
  handlerId: string;
}

const VERSION = 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Encodes a listing position as an opaque base64url token. */
export function encodeCursor(cursor: HandlerCursor): string {
  return Buffer.from(JSON.stringify([VERSION, cursor.startedAt, cursor.handlerId]), "utf8").toString(
    "base64url",
  );
}

/**
 * Decodes a token made by {@link encodeCursor}. Anything else (wrong alphabet, padding, a token that
 * does not re-encode to itself, JSON of another shape, a malformed timestamp) throws
 * {@link InvalidCursorError}.
 */
export function decodeCursor(token: string): HandlerCursor {
  if (typeof token !== "string" || token.length === 0 || token.length > 2048 || !BASE64URL.test(token)) {
    throw new InvalidCursorError();
  }
  const bytes = Buffer.from(token, "base64url");
  // Non-canonical encodings (stray trailing bits) would decode too: only accept what we issue.
  if (bytes.toString("base64url") !== token) throw new InvalidCursorError();
  const text = bytes.toString("utf8");
  if (Buffer.from(text, "utf8").compare(bytes) !== 0) throw new InvalidCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new InvalidCursorError("Invalid cursor", { cause });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== VERSION ||
    typeof parsed[1] !== "string" ||
    typeof parsed[2] !== "string" ||
    !ISO_UTC.test(parsed[1]) ||
    Number.isNaN(Date.parse(parsed[1])) ||
    parsed[2].length === 0
  ) {
    throw new InvalidCursorError();
  }
  return { startedAt: parsed[1], handlerId: parsed[2] };
}
