/**
 * The wire's fixed values, without zod: the zod schemas of `wire.ts` and the client's shape checks
 * (`answer-shapes.ts`) both take them from here, so that a browser bundle of the client carries no zod.
 */

import { BUILTIN_EVENT_NAMES } from "../core/builtin-names.js";

export { BUILTIN_EVENT_NAMES };

/** The qualified name whose presence in `types` marks a terminal event. */
export const STOP_EVENT_NAME = BUILTIN_EVENT_NAMES.stop;

/** A handler's statuses: `running` until the run ends, then how it ended. */
export const HANDLER_STATUSES = ["running", "completed", "failed", "cancelled"] as const;

/** Why a running handler is blocked (its `blocked.code`): its workflow's code or its schemas changed. */
export const BLOCKED_CODES = ["WORKFLOW_CHANGED", "SCHEMA_CHANGED"] as const;

/** What cancel answers: `deleted` with purge=true. */
// `cancelling` (202): sent to the process that runs the handler, not applied yet (issue 21).
export const CANCEL_STATUSES = ["cancelled", "deleted", "cancelling"] as const;

/** What GET /health answers. */
export const HEALTH_STATUSES = ["healthy", "unhealthy"] as const;

/**
 * An ISO 8601 UTC timestamp with seconds (`2024-10-21T14:32:15.123Z`), with real month lengths and
 * leap days: the pattern of zod's `z.iso.datetime({ offset: false })`, which the wire schemas use
 * (test/protocol/answer-shapes.test.ts checks that the two are the same).
 */
export const ISO_TIMESTAMP =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z))$/;
