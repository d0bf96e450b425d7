import { createHash } from "node:crypto";
import { isoTime } from "../../core/clock.js";
import { WorkflowError } from "../../core/index.js";
import { type OperationId, toHandlerData } from "../../protocol/index.js";
import { type IdempotencyRecord, isKeyConflict } from "../../stores/idempotency.js";
import type { KeyTicket } from "../idempotency/key-gate.js";
import { awaitEnded } from "../runs/await-ended.js";
import type { Runtime, ServerContext } from "../server-context.js";
import { type Answer, type BytesAnswer, errorAnswer, JSON_CONTENT_TYPE, type JsonAnswer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";

/** The routes a key makes safe to retry (round 2 §2). */
const KEYED: ReadonlySet<OperationId> = new Set([
  "runWorkflow",
  "runWorkflowNowait",
  "sendEvent",
  "cancelHandler",
]);
/** 1–200 visible ASCII characters. */
const KEY_FORMAT = /^[\x21-\x7e]{1,200}$/;
/** How long a retry waits for the request executing with its key before 409 IDEMPOTENCY_KEY_IN_USE. */
export const IN_USE_WAIT_MS = 5_000;
/** Rounds of looking the key up again (after a wait, or after losing a race to another process). */
const ROUNDS = 4;

/**
 * A request of a keyed route with an `Idempotency-Key`: executed once. The first request with the
 * key runs `handle`; its change and the key's record are stored together (or the answer alone, for
 * a request that changed nothing). A later one with the same method, path, query and body gets the
 * stored answer with `Idempotent-Replayed: true`; another request with the key gets 422
 * `IDEMPOTENCY_KEY_REUSED`; one that comes while the first executes waits for it, then 409
 * `IDEMPOTENCY_KEY_IN_USE`. Answers that say "try again" (408, 409, 429, 5xx) are not stored.
 */
export function answerKeyed(
  ctx: ServerContext,
  request: HttpRequest,
  id: OperationId,
  handle: (request: HttpRequest) => Answer | Promise<Answer>,
): Answer | Promise<Answer> {
  const key = request.header("idempotency-key");
  // Most requests have no key: no promise of this function's own for them.
  if (key === undefined || !KEYED.has(id)) return handle(request);
  return answerWithKey(ctx, request, key, handle);
}

async function answerWithKey(
  ctx: ServerContext,
  request: HttpRequest,
  key: string,
  handle: (request: HttpRequest) => Answer | Promise<Answer>,
): Promise<Answer> {
  if (!KEY_FORMAT.test(key)) {
    throw new WorkflowError(
      "INVALID_IDEMPOTENCY_KEY",
      "Idempotency-Key must be 1 to 200 visible ASCII characters",
      {
        issues: [{ path: "Idempotency-Key", message: "Expected 1 to 200 characters from ! to ~" }],
      },
    );
  }
  const body = await request.readJson(ctx.bodyLimitBytes);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([request.method, request.path, request.query, body ?? null]))
    .digest("base64url");
  const keyed: HttpRequest = { ...request, readJson: async () => body };
  const runtime = await ctx.runtime();
  for (let round = 0; round < ROUNDS; round++) {
    const executing = ctx.keys.executing(key);
    if (executing) {
      if (executing.fingerprint !== fingerprint) throw reused(key);
      const handlerId = executing.made?.record.handlerId ?? null;
      // Its change waits for a store that refuses writes: say so now, as its first copy was told.
      if (runtime.writer.failure !== null) return storeDown(runtime.writer.failure, handlerId, ctx);
      if (await ctx.keys.wait(key, IN_USE_WAIT_MS, runtime.clock)) continue;
      throw inUse(key, handlerId);
    }
    const stored = await runtime.store.getIdempotencyKey(key);
    if (stored) return replay(runtime, stored, fingerprint);
    const ticket = ctx.keys.claim(key, fingerprint, isoTime(runtime.clock.now()));
    if (ticket === null) continue;
    try {
      let answer: Answer;
      try {
        answer = await handle({ ...keyed, idempotency: ticket });
      } catch (error) {
        // A lost race for the key (below) is no internal error: nothing to log.
        answer = isKeyConflict(error) ? { status: 500, body: null } : errorAnswer(error, ctx.logger);
      }
      const made = ticket.made;
      // Another request with the key (in another process) stored its change first: answer with it.
      if (made?.state === "dropped" && isKeyConflict(made.error)) continue;
      if (made === null && isFinal(answer)) return await storeAnswer(runtime, ticket, answer);
      return answer;
    } finally {
      ctx.keys.release(ticket);
    }
  }
  throw inUse(key, null);
}

/**
 * The answer of a `run` whose key's record waits for the run's outcome: handed to the commit writer
 * for its next batch, not awaited (until it is durable, a copy derives the same answer from the
 * handler's record, which no longer changes).
 */
export function settleOutcome(writer: Runtime["writer"], ticket: KeyTicket, answer: JsonAnswer): Answer {
  const made = ticket.made;
  if (made?.state !== "stored") return answer;
  const body = JSON.stringify(answer.body);
  writer.answerKey({
    key: made.record.key,
    fingerprint: made.record.fingerprint,
    status: answer.status,
    body,
  });
  return { kind: "bytes", status: answer.status, body, headers: { "content-type": JSON_CONTENT_TYPE } };
}

/** A stored key's answer again; for a `run` whose outcome was not recorded yet, once it is known. */
async function replay(runtime: Runtime, stored: IdempotencyRecord, fingerprint: string): Promise<Answer> {
  if (stored.fingerprint !== fingerprint) throw reused(stored.key);
  // Acknowledge only what the store holds durably now: a SQLite file deleted under the server is
  // still read from, but must not confirm anything (RELIABILITY.md, "The file deleted…").
  await runtime.store.ready?.();
  if (stored.status !== null) return asAnswer(stored, true);
  const outcome = await runOutcome(runtime, stored);
  return asAnswer(await runtime.store.putIdempotencyKey({ ...stored, ...outcome }), true);
}

/** The answer `run` gives for the run a key started, from its handler's record once it ended. */
async function runOutcome(
  runtime: Runtime,
  stored: IdempotencyRecord,
): Promise<Pick<IdempotencyRecord, "status" | "body">> {
  const handlerId = stored.handlerId ?? "";
  const { store, signals, clock } = runtime;
  for (;;) {
    const record = await store.getHandler(handlerId);
    // Also a key whose answer retention dropped with its handler (Store.deleteEnded): the request
    // was executed once, its handler is gone, and that is the truthful answer; nothing runs again.
    if (record === null || record.runId !== stored.runId) {
      const what = stored.runId === null ? "The handler" : `The run "${stored.runId}" of the handler`;
      throw new WorkflowError(
        "HANDLER_NOT_FOUND",
        `${what} this Idempotency-Key's request made or addressed ("${handlerId}") is no longer stored: it was deleted (retention or a purge) or continued by another run; the request is not executed again`,
      );
    }
    if (record.status !== "running") {
      return {
        status: record.status === "completed" ? 200 : 500,
        body: JSON.stringify(toHandlerData(record)),
      };
    }
    await awaitEnded(store, signals, handlerId, 60_000, clock);
  }
}

/** Stores the answer of a request that changed nothing; resolves with the key's answer as stored. */
async function storeAnswer(runtime: Runtime, ticket: KeyTicket, answer: JsonAnswer): Promise<Answer> {
  const body = JSON.stringify(answer.body);
  try {
    const stored = await runtime.store.putIdempotencyKey(
      ticket.record({ handlerId: null, runId: null, status: answer.status, body }),
    );
    return stored.status === answer.status && stored.body === body ? answer : asAnswer(stored, true);
  } catch {
    // Not stored: a retry executes again, which is safe since this request changed nothing.
    return answer;
  }
}

/** A JSON answer that is the request's final word: not one that asks to try again. */
function isFinal(answer: Answer): answer is JsonAnswer {
  if (answer.kind === "bytes" || answer.kind === "stream" || answer.kind === "record") return false;
  const s = answer.status;
  return s < 500 && s !== 408 && s !== 409 && s !== 429;
}

function asAnswer(stored: IdempotencyRecord, replayed: boolean): BytesAnswer {
  const headers: Record<string, string> = { "content-type": JSON_CONTENT_TYPE };
  if (replayed) headers["idempotent-replayed"] = "true";
  return { kind: "bytes", status: stored.status ?? 500, body: stored.body ?? "null", headers };
}

/** 503 STORE_UNAVAILABLE for a copy whose first is held by a store that refuses writes. */
function storeDown(failure: unknown, handlerId: string | null, ctx: ServerContext): Answer {
  const answer = errorAnswer(
    new WorkflowError(
      "STORE_UNAVAILABLE",
      "The store refuses writes: the first request with this Idempotency-Key waits to be written; retry later",
      { cause: failure },
    ),
    ctx.logger,
  );
  if (handlerId !== null) answer.body = { ...(answer.body as object), handler_id: handlerId };
  return answer;
}

const reused = (key: string) =>
  new WorkflowError(
    "IDEMPOTENCY_KEY_REUSED",
    `Idempotency-Key "${key}" was used with another request (method, path or body): use a new key for a new request`,
  );

function inUse(key: string, handlerId: string | null): WorkflowError {
  const which = handlerId ? ` (handler "${handlerId}")` : "";
  return new WorkflowError(
    "IDEMPOTENCY_KEY_IN_USE",
    `The request with Idempotency-Key "${key}"${which} is still being executed: retry later`,
  );
}
