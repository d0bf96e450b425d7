import type { KeyTicket } from "../idempotency/key-gate.js";

/**
 * A request as the pipeline sees it, whichever sink it came through: node's request (serve()) or a
 * web Request (server.fetch).
 */
export interface HttpRequest {
  /** As sent (`HEAD` is routed as `GET`). */
  method: string;
  /** The path, percent-decoded as hono decodes it (reserved characters such as `%2F` kept). */
  path: string;
  /** The query string without `?` ("" when none). */
  query: string;
  /** A header's value by its lower-case name (several values joined with ", "). */
  header(name: string): string | undefined;
  /**
   * The body as JSON, refused past `limit` bytes; an empty body reads as `undefined`.
   * @throws WorkflowError `PAYLOAD_TOO_LARGE` (413) or `INVALID_JSON` (400).
   */
  readJson(limit: number): Promise<unknown>;
  /** Set by the pipeline for a keyed request (`Idempotency-Key`): the route stores its change's key with it. */
  idempotency?: KeyTicket;
}
